/* The border officer's scanner, in the browser.
 *
 * - Keeps the last trust list and revocation list on the device (localStorage) and
 *   refreshes them while online, so that codes can be verified offline.
 * - Pins the site's anchor: the page names the key id that signs this site's lists
 *   (data-anchor), the device remembers it, and lists signed by any other key are
 *   refused, whether fetched or kept.
 * - Verifies a code on the device: base45, zlib (DecompressionStream), COSE_Sign1 with
 *   ECDSA P-256 / SHA-256 over the Sig_structure (WebCrypto), the claims, the validity
 *   and the revocation list (docs/formats/health-code.md).
 * - Verifies other issuers' certificates on the device too, an EU DCC (HC1:) or a SMART
 *   Health Card (shc:/), with the list of their trust material the site signs beside
 *   the others, step by step as the server does (docs/formats/dcc.md, shc.md).
 * - Reads codes from the camera (getUserMedia) with the QR decoder the site serves
 *   from /static/vendor when it is installed.
 * - Registers a service worker so that the page itself opens offline.
 * Without JavaScript the page still works: the forms post to the server.
 */
(function () {
  "use strict";

  var root = document.getElementById("scanner");
  if (!root) { return; }
  var LISTS = "borderpass.scanner.lists";
  var ANCHOR = "borderpass.scanner.anchor";
  var SKEW_MS = 5 * 60 * 1000;
  var prefix = root.dataset.prefix || "BPHC1:";
  // The anchor the page names wins over one remembered from an earlier page: it is how
  // the site moves its scanners to a new anchor. A page opened offline comes from the
  // service worker with the anchor it had when it was kept.
  if (root.dataset.anchor) { localStorage.setItem(ANCHOR, root.dataset.anchor); }

  function pinnedAnchor() {
    return root.dataset.anchor || localStorage.getItem(ANCHOR) || "";
  }
  var lang = document.documentElement.lang || "en";

  function say(name, time) {
    var text = root.dataset["t" + name] || "";
    return time === undefined ? text : text.replace("{time}", time);
  }

  function problem(reason) {
    var key = "p" + (reason || "other").split("_").map(function (part) {
      return part.charAt(0).toUpperCase() + part.slice(1);
    }).join("");
    return root.dataset[key] || root.dataset.pOther;
  }

  function hkTime(date) {
    return new Intl.DateTimeFormat(lang, {
      timeZone: "Asia/Hong_Kong", dateStyle: "medium", timeStyle: "medium"
    }).format(date);
  }

  // --- bytes ------------------------------------------------------------------------

  var B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

  function b45decode(text) {
    var out = [];
    for (var i = 0; i < text.length; i += 3) {
      var chunk = text.substr(i, 3);
      var values = [];
      for (var j = 0; j < chunk.length; j++) {
        var v = B45.indexOf(chunk[j]);
        if (v < 0) { throw new Error("bad_base45"); }
        values.push(v);
      }
      if (values.length === 3) {
        var n = values[0] + values[1] * 45 + values[2] * 2025;
        if (n > 0xffff) { throw new Error("bad_base45"); }
        out.push(n >> 8, n & 0xff);
      } else if (values.length === 2) {
        var m = values[0] + values[1] * 45;
        if (m > 0xff) { throw new Error("bad_base45"); }
        out.push(m);
      } else {
        throw new Error("bad_base45");
      }
    }
    return new Uint8Array(out);
  }

  function b64decode(text) {
    var normal = text.replace(/-/g, "+").replace(/_/g, "/");
    while (normal.length % 4) { normal += "="; }
    var raw = atob(normal);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }

  function hex(bytes) {
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function inflate(bytes) {
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).arrayBuffer().then(function (buffer) {
      return new Uint8Array(buffer);
    });
  }

  // --- a small CBOR decoder (RFC 8949): what a health code uses, nothing more ------------

  // A tagged item (RFC 8949 section 3.4): a COSE_Sign1 (18), a CWT (61), a date (0, 1).
  function Tagged(tag, value) { this.tag = tag; this.value = value; }

  // Other issuers' certificates may use what ours never do: floats, indefinite lengths.
  function half(bits) {
    var exponent = (bits >> 10) & 0x1f;
    var fraction = bits & 0x3ff;
    var value = exponent === 0 ? fraction * Math.pow(2, -24)
      : exponent === 31 ? (fraction ? NaN : Infinity)
        : (fraction + 1024) * Math.pow(2, exponent - 25);
    return bits & 0x8000 ? -value : value;
  }

  function cborDecode(bytes) {
    var pos = 0;
    var BREAK = {};
    function byte() {
      if (pos >= bytes.length) { throw new Error("bad_cose"); }
      return bytes[pos++];
    }
    function length(info) {
      if (info < 24) { return info; }
      var size = { 24: 1, 25: 2, 26: 4, 27: 8 }[info];
      if (!size) { throw new Error("bad_cose"); }
      var value = 0;
      for (var i = 0; i < size; i++) { value = value * 256 + byte(); }
      return value;
    }
    function take(n) {
      if (pos + n > bytes.length) { throw new Error("bad_cose"); }
      var out = bytes.slice(pos, pos + n);
      pos += n;
      return out;
    }
    function chunks(major, depth) {  // an indefinite-length byte or text string
      var parts = [];
      for (;;) {
        var part = item(depth + 1, true);
        if (part === BREAK) { break; }
        if ((major === 2) !== (part instanceof Uint8Array)) { throw new Error("bad_cose"); }
        parts.push(part);
      }
      if (major === 3) { return parts.join(""); }
      var size = parts.reduce(function (sum, p) { return sum + p.length; }, 0);
      var out = new Uint8Array(size);
      var at = 0;
      parts.forEach(function (p) { out.set(p, at); at += p.length; });
      return out;
    }
    function float(size) {
      var view = new DataView(take(size).buffer);
      return size === 4 ? view.getFloat32(0) : view.getFloat64(0);
    }
    function item(depth, inside) {
      if (depth > 16) { throw new Error("bad_cose"); }
      var first = byte();
      var major = first >> 5;
      var info = first & 31;
      var n, i, out, next;
      if (info === 31) {
        if (major === 7 && inside) { return BREAK; }
        if (major === 2 || major === 3) { return chunks(major, depth); }
        if (major !== 4 && major !== 5) { throw new Error("bad_cose"); }
        n = Infinity;
      }
      switch (major) {
        case 0: return length(info);
        case 1: return -1 - length(info);
        case 2: return take(length(info));
        case 3: return new TextDecoder("utf-8", { fatal: true }).decode(take(length(info)));
        case 4:
          if (n !== Infinity) { n = length(info); }
          out = [];
          for (i = 0; i < n; i++) {
            next = item(depth + 1, n === Infinity);
            if (next === BREAK) { break; }
            out.push(next);
          }
          return out;
        case 5:
          if (n !== Infinity) { n = length(info); }
          out = new Map();
          for (i = 0; i < n; i++) {
            var key = item(depth + 1, n === Infinity);
            if (key === BREAK) { break; }
            out.set(key, item(depth + 1));
          }
          return out;
        case 6: return new Tagged(length(info), item(depth + 1));
        default:
          if (info === 20) { return false; }
          if (info === 21) { return true; }
          if (info === 22) { return null; }
          if (info === 23) { return undefined; }
          if (info === 25) { return half(length(25)); }
          if (info === 26) { return float(4); }
          if (info === 27) { return float(8); }
          throw new Error("bad_cose");
      }
    }
    var value = item(0, false);
    if (pos !== bytes.length) { throw new Error("bad_cose"); }
    return value;
  }

  function cborBytes(major, data) {
    var n = data.length;
    var head;
    if (n < 24) { head = [(major << 5) | n]; }
    else if (n < 256) { head = [(major << 5) | 24, n]; }
    else if (n < 65536) { head = [(major << 5) | 25, n >> 8, n & 0xff]; }
    else { head = [(major << 5) | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]; }
    var out = new Uint8Array(head.length + n);
    out.set(head, 0);
    out.set(data, head.length);
    return out;
  }

  function sigStructure(protectedBytes, payload) {
    var parts = [new Uint8Array([0x84]),
      cborBytes(3, new TextEncoder().encode("Signature1")),
      cborBytes(2, protectedBytes), cborBytes(2, new Uint8Array(0)), cborBytes(2, payload)];
    var total = parts.reduce(function (sum, part) { return sum + part.length; }, 0);
    var out = new Uint8Array(total);
    var at = 0;
    parts.forEach(function (part) { out.set(part, at); at += part.length; });
    return out;
  }

  // --- lists --------------------------------------------------------------------------

  function importKey(spkiB64) {
    return crypto.subtle.importKey("spki", b64decode(spkiB64),
      { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  }

  function es256(key, signature, data) {
    return crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, signature, data);
  }

  function openList(envelope, kind) {
    if (!envelope || envelope.alg !== "ES256") { return Promise.reject(new Error("bad_list")); }
    var anchor = pinnedAnchor();
    if (!anchor || anchor !== envelope.kid) { return Promise.reject(new Error("wrong_anchor")); }
    var payload = b64decode(envelope.payload);
    return importKey(envelope.key).then(function (key) {
      return es256(key, b64decode(envelope.signature), payload);
    }).then(function (good) {
      if (!good) { throw new Error("bad_list_signature"); }
      var content = JSON.parse(new TextDecoder().decode(payload));
      if (content.type !== kind || content.version !== 1) { throw new Error("bad_list"); }
      return content;
    });
  }

  function storedLists() {
    try { return JSON.parse(localStorage.getItem(LISTS) || "null"); } catch (e) { return null; }
  }

  function showListsStatus() {
    var held = storedLists();
    var line = document.getElementById("lists-status");
    line.textContent = held ? say("Lists", hkTime(new Date(held.fetched_at))) : say("NoLists");
  }

  function fetchLists() {
    return fetch("/api/trust-list/export", { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("fetch_failed"); }
        return response.json();
      }).then(function (bundle) {
        return openList(bundle.trust_list, "trust-list").then(function () {
          return openList(bundle.revocations, "revocations");
        }).then(function () {
          return bundle.partners ? openList(bundle.partners, "partner-lists") : null;
        }).then(function () {
          return bundle.foreign ? openList(bundle.foreign, "foreign-trust") : null;
        }).then(function () {
          localStorage.setItem(LISTS, JSON.stringify({ fetched_at: Date.now(), bundle: bundle }));
          showListsStatus();
          return bundle;
        });
      });
  }

  // --- verification on the device ----------------------------------------------------

  function verdict(result, reason, claims) {
    return { result: result, reason: reason, claims: claims || null };
  }

  // Verify a code on the device at ``at`` (an instant, as Date accepts it; now by default).
  function verifyOnDevice(text, at) {
    var now = at === undefined ? Date.now() : new Date(at).getTime();
    text = String(text).trim();
    if (/^(HC1:|shc:\/)/.test(text)) { return verifyForeign(text, now); }
    var held = storedLists();
    if (!held) { return Promise.resolve(verdict("cannot_verify", "trust_list_stale")); }
    var trust, revocations, partners, message, protectedMap, kid;
    if (text.indexOf(prefix) !== 0) { return Promise.resolve(verdict("invalid", "bad_prefix")); }
    if (text.length > 4096) { return Promise.resolve(verdict("invalid", "too_long")); }
    var compressed;
    try { compressed = b45decode(text.slice(prefix.length)); } catch (e) {
      return Promise.resolve(verdict("invalid", "bad_base45"));
    }
    return Promise.all([openList(held.bundle.trust_list, "trust-list"),
      openList(held.bundle.revocations, "revocations"),
      held.bundle.partners ? openList(held.bundle.partners, "partner-lists") : null
    ]).then(function (lists) {
      trust = lists[0];
      revocations = lists[1];
      partners = lists[2] ? lists[2].partners : [];
      return inflate(compressed).catch(function () { throw new Error("bad_compression"); });
    }).then(function (cose) {
      message = cborDecode(cose);
      if (message && message.tag === 18) { message = message.value; }
      if (!Array.isArray(message) || message.length !== 4) { throw new Error("bad_cose"); }
      protectedMap = cborDecode(message[0]);
      if (!(protectedMap instanceof Map) || protectedMap.get(1) !== -7) {
        throw new Error("unsupported_algorithm");
      }
      kid = hex(protectedMap.get(4) || new Uint8Array(0));
      var trusted = holding(trust, kid);
      if (!trusted) {
        // A partner's code is judged with that partner's lists (docs/formats/partner-lists.md).
        partners.some(function (partner) {
          var theirs = partnerTrust(partner);
          trusted = holding(theirs, kid);
          if (trusted) { trust = theirs; revocations = partner.revocations; }
          return Boolean(trusted);
        });
      }
      if (now - Date.parse(trust.issued_at) > trust.max_age_seconds * 1000) {
        throw new Error("trust_list_stale");
      }
      if (!trusted) { throw new Error("unknown_issuer"); }
      return importKey(trusted.public_key).then(function (key) {
        return es256(key, message[3], sigStructure(message[0], message[2]));
      }).then(function (good) {
        if (!good) { throw new Error("bad_signature"); }
        return trusted;
      });
    }).then(function (trusted) {
      var cwt = cborDecode(message[2]);
      var code = cwt.get(-65537);
      if (!(code instanceof Map) || code.get("v") !== 1) { throw new Error("bad_claims"); }
      var original = code.get("r");
      var claims = {
        issuer: cwt.get(1), issuedAt: cwt.get(6) * 1000, validUntil: cwt.get(4) * 1000,
        colour: code.get("c"), initials: code.get("n"), document: code.get("d"),
        codeId: cwt.get(7), original: original instanceof Map ? original.get("i") : null
      };
      if (claims.issuer !== trusted.jurisdiction) { return verdict("invalid", "wrong_issuer", claims); }
      if (trusted.valid_until && claims.issuedAt > Date.parse(trusted.valid_until)) {
        return verdict("invalid", "key_not_valid", claims);
      }
      if (now + SKEW_MS < claims.issuedAt) { return verdict("invalid", "not_yet_valid", claims); }
      if (now >= claims.validUntil) { return verdict("invalid", "expired", claims); }
      if (now - Date.parse(revocations.issued_at) > revocations.max_age_seconds * 1000) {
        return verdict("cannot_verify", "revocation_list_stale", claims);
      }
      return crypto.subtle.digest("SHA-256", claims.codeId).then(function (digest) {
        var hash = hex(new Uint8Array(digest).slice(0, 16));
        var revoked = revocations.entries.some(function (entry) { return entry.hash === hash; });
        return revoked ? verdict("invalid", "revoked", claims) : verdict("valid", null, claims);
      });
    }).catch(function (error) {
      var reason = (error && error.message) || "bad_cose";
      var cannot = ["trust_list_stale", "unknown_issuer", "bad_list", "bad_list_signature",
        "wrong_anchor"].indexOf(reason) >= 0;
      return verdict(cannot ? "cannot_verify" : "invalid", reason);
    });
  }

  function holding(list, kid) {
    return (list && list.keys || []).filter(function (key) { return key.kid === kid; })[0];
  }

  // A partner's trust list, as the partner signed it; the partner lists that carry it are
  // signed by this site's anchor, which checked it against the partner's pinned anchor.
  function partnerTrust(partner) {
    try {
      var list = JSON.parse(new TextDecoder().decode(b64decode(partner.trust_list.payload)));
      return list.type === "trust-list" && list.jurisdiction === partner.jurisdiction ? list : null;
    } catch (e) { return null; }
  }

  // --- other issuers' certificates on the device (docs/formats/dcc.md, shc.md) -------------
  //
  // The same steps, in the same order and with the same reasons, as the server's
  // worldcodes.dcc.verify_dcc and worldcodes.shc.verify_shc, with the trust material of the
  // list "foreign" that the site signs with its anchor beside the others.

  var DCC_STEPS = ["prefix", "base45", "zlib", "cose", "cbor", "schema", "signature",
    "expiry", "key_usage"];
  var SHC_STEPS = ["prefix", "numeric", "jws", "deflate", "payload", "signature", "expiry",
    "revocation", "fhir"];
  var READING = ["prefix", "base45", "zlib", "cose", "numeric", "jws"];
  var KEY_USAGE = { t: 1, v: 2, r: 3 };
  var HEALTH_CARD = "https://smarthealth.cards#health-card";
  var CVX = "http://hl7.org/fhir/sid/cvx";

  function Steps(names) {
    var outcomes = {};
    names.forEach(function (name) { outcomes[name] = null; });
    this.outcomes = outcomes;
    this.reason = null;
  }
  Steps.prototype.passed = function (name) { this.outcomes[name] = true; };
  Steps.prototype.failed = function (name, reason) {
    this.outcomes[name] = false;
    if (this.reason === null) { this.reason = reason; }
  };
  Steps.prototype.unknown = function (reason) {
    if (this.reason === null) { this.reason = reason; }
  };
  Steps.prototype.result = function () {
    var values = Object.keys(this.outcomes).map(function (k) { return this.outcomes[k]; }, this);
    if (values.indexOf(false) >= 0) { return "invalid"; }
    return values.indexOf(null) >= 0 ? "cannot_verify" : "valid";
  };

  function foreignResult(format, steps, issuer, summary) {
    return { format: format, result: steps.result(), reason: steps.reason,
      issuer: issuer || null, summary: summary || null, steps: steps.outcomes };
  }

  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  function text(value) { return typeof value === "string" && value ? value : null; }

  function withoutLineEnd(value) {
    if (value.slice(-2) === "\r\n") { return value.slice(0, -2); }
    return value.slice(-1) === "\n" ? value.slice(0, -1) : value;
  }

  function b64encode(bytes) {
    return btoa(Array.prototype.map.call(bytes, function (b) {
      return String.fromCharCode(b);
    }).join(""));
  }

  // Unpadded base64url, one spelling only, as the server's kit.decoding reads it.
  function b64urlStrict(value, size) {
    if (!/^[A-Za-z0-9_-]*$/.test(value) || value.length % 4 === 1) { throw new Error("b64"); }
    var bytes = b64decode(value);
    var again = b64encode(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    if (again !== value || (size !== undefined && bytes.length !== size)) { throw new Error("b64"); }
    return bytes;
  }

  // JSON as the server's kit.decoding.load_json reads it: UTF-8, finite numbers, no byte
  // order mark, nesting of at most 32.
  function strictJson(bytes) {
    var source = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    if (source.charAt(0) === "\ufeff") { throw new Error("json"); }
    var value = JSON.parse(source);
    (function walk(item, depth) {
      if (typeof item === "number" && !isFinite(item)) { throw new Error("json"); }
      if (item === null || typeof item !== "object") { return; }
      if (depth > 32) { throw new Error("json"); }
      Object.keys(item).forEach(function (key) { walk(item[key], depth + 1); });
    })(value, 1);
    return value;
  }

  function inflateWith(format, bytes, limit) {
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream(format));
    return new Response(stream).arrayBuffer().then(function (buffer) {
      if (buffer.byteLength > limit) { throw new Error("too_large"); }
      return new Uint8Array(buffer);
    });
  }

  function verifySignature(kind, key, signature, data) {
    var imported = kind === "jwk"
      ? crypto.subtle.importKey("jwk", { kty: "EC", crv: "P-256", x: key.x, y: key.y },
        { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"])
      : kind === "ec"
        ? crypto.subtle.importKey("spki", b64decode(key), { name: "ECDSA", namedCurve: "P-256" },
          false, ["verify"])
        : crypto.subtle.importKey("spki", b64decode(key), { name: "RSA-PSS", hash: "SHA-256" },
          false, ["verify"]);
    return imported.then(function (publicKey) {
      return kind === "rsa"
        ? crypto.subtle.verify({ name: "RSA-PSS", saltLength: 32 }, publicKey, signature, data)
        : crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, publicKey, signature, data);
    }).catch(function () { return false; });
  }

  function display(sets, name, code) {
    if (typeof code !== "string" || !code) { return null; }
    var set = sets[name] || {};
    return Object.prototype.hasOwnProperty.call(set, code) ? set[code] : code;
  }

  // A small JSON Schema (2020-12) check: the keywords the DCC schema uses. As the
  // server's, "format" only annotates.
  function schemaValid(schema, value) {
    function resolve(ref) {
      var found = schema;
      ref.replace(/^#\//, "").split("/").forEach(function (part) { found = found && found[part]; });
      return found;
    }
    function typed(type, item) {
      switch (type) {
        case "object": return isObject(item);
        case "array": return Array.isArray(item);
        case "string": return typeof item === "string";
        case "integer": return typeof item === "number" && Number.isInteger(item);
        case "number": return typeof item === "number";
        case "boolean": return typeof item === "boolean";
        case "null": return item === null;
        default: return false;
      }
    }
    function check(node, item) {
      if (node === true || node === undefined) { return true; }
      if (node === false || !isObject(node)) { return false; }
      if (node.$ref && !check(resolve(node.$ref), item)) { return false; }
      if (node.type !== undefined) {
        var types = Array.isArray(node.type) ? node.type : [node.type];
        if (!types.some(function (t) { return typed(t, item); })) { return false; }
      }
      if (node.enum && !node.enum.some(function (e) { return e === item; })) { return false; }
      if (typeof item === "string") {
        var size = Array.from(item).length;
        if (node.maxLength !== undefined && size > node.maxLength) { return false; }
        if (node.minLength !== undefined && size < node.minLength) { return false; }
        if (node.pattern !== undefined && !new RegExp(node.pattern, "u").test(item)) { return false; }
      }
      if (typeof item === "number") {
        if (node.minimum !== undefined && item < node.minimum) { return false; }
        if (node.maximum !== undefined && item > node.maximum) { return false; }
      }
      if (Array.isArray(item)) {
        if (node.minItems !== undefined && item.length < node.minItems) { return false; }
        if (node.maxItems !== undefined && item.length > node.maxItems) { return false; }
        if (node.items !== undefined && !item.every(function (i) { return check(node.items, i); })) {
          return false;
        }
      }
      if (isObject(item)) {
        if (node.required && !node.required.every(function (k) {
          return Object.prototype.hasOwnProperty.call(item, k);
        })) { return false; }
        if (node.properties && !Object.keys(node.properties).every(function (k) {
          return !Object.prototype.hasOwnProperty.call(item, k) || check(node.properties[k], item[k]);
        })) { return false; }
      }
      if (node.allOf && !node.allOf.every(function (s) { return check(s, item); })) { return false; }
      if (node.anyOf && !node.anyOf.some(function (s) { return check(s, item); })) { return false; }
      if (node.oneOf && node.oneOf.filter(function (s) { return check(s, item); }).length !== 1) {
        return false;
      }
      return true;
    }
    return check(schema, value);
  }

  // -- EU DCC ------------------------------------------------------------------------

  function dateText(ms) {
    if (!isFinite(ms)) { throw new Error("bad_cbor"); }
    var iso = new Date(ms).toISOString();
    return iso.slice(-5) === ".000Z" ? iso.slice(0, -5) + "Z" : iso.slice(0, -1) + "000Z";
  }

  // The certificate (claim -260/1) as the JSON it stands for; dates (tags 0, 1) as text.
  function jsonable(value, depth) {
    if (depth > 16) { throw new Error("bad_cbor"); }
    function item(v) {
      if (typeof v === "string" || typeof v === "boolean" || v === null) { return v; }
      if (typeof v === "number") {
        if (!isFinite(v)) { throw new Error("bad_cbor"); }
        return v;
      }
      if (v instanceof Map || Array.isArray(v)) { return jsonable(v, depth + 1); }
      if (v instanceof Tagged && v.tag === 0 && typeof v.value === "string") {
        return dateText(Date.parse(v.value));
      }
      if (v instanceof Tagged && v.tag === 1 && typeof v.value === "number") {
        return dateText(v.value * 1000);
      }
      throw new Error("bad_cbor");
    }
    if (Array.isArray(value)) { return value.map(item); }
    if (!(value instanceof Map)) { throw new Error("bad_cbor"); }
    var out = {};
    value.forEach(function (v, key) {
      if (typeof key !== "string") { throw new Error("bad_cbor"); }
      out[key] = item(v);
    });
    return out;
  }

  function instant(value) {
    if (typeof value !== "number" || !isFinite(value) || Math.abs(value) > 253402300799) {
      throw new Error("bad_claims");
    }
    return value * 1000;
  }

  function dccClaims(payload) {
    var claims;
    try { claims = cborDecode(payload); } catch (e) { throw new Error("bad_cbor"); }
    if (!(claims instanceof Map)) { throw new Error("bad_claims"); }
    var issuer = claims.get(1);
    if (issuer !== undefined && issuer !== null && typeof issuer !== "string") {
      throw new Error("bad_claims");
    }
    var hcert = claims.get(-260);
    if (!(hcert instanceof Map) || !(hcert.get(1) instanceof Map)) { throw new Error("bad_claims"); }
    var certificate = jsonable(hcert.get(1), 0);
    return { issuer: issuer || null, issued: instant(claims.get(6)),
      expires: instant(claims.get(4)), certificate: certificate };
  }

  function schemaOk(certificate, schema) {
    if (typeof certificate.ver !== "string" || !/^1\.[0-3]\.\d+$/.test(certificate.ver)) {
      return false;
    }
    return !schema || schemaValid(schema, certificate);
  }

  function readSign1(raw) {
    if (raw.length > 64 * 1024) { throw new Error("bad_cose"); }
    var item = cborDecode(raw);
    var tags = [];
    while (item instanceof Tagged && tags.length < 2) { tags.push(item.tag); item = item.value; }
    if (["", "18", "61,18"].indexOf(tags.join(",")) < 0) { throw new Error("bad_cose"); }
    if (!Array.isArray(item) || item.length !== 4) { throw new Error("bad_cose"); }
    var prot = item[0];
    if (!(prot instanceof Uint8Array && item[1] instanceof Map && item[2] instanceof Uint8Array &&
          item[3] instanceof Uint8Array)) { throw new Error("bad_cose"); }
    var headers = prot.length ? cborDecode(prot) : new Map();
    if (!(headers instanceof Map)) { throw new Error("bad_cose"); }
    return {
      alg: headers.has(1) ? headers.get(1) : item[1].get(1),
      kid: headers.has(4) ? headers.get(4) : item[1].get(4),
      payload: item[2], signature: item[3], toBeSigned: sigStructure(prot, item[2])
    };
  }

  function dccSignature(message, foreign, steps) {
    if (!(message.kid instanceof Uint8Array) || message.kid.length !== 8) {
      steps.failed("signature", "bad_kid");
      return Promise.resolve(null);
    }
    if (message.alg !== -7 && message.alg !== -37) {
      steps.failed("signature", "unsupported_algorithm");
      return Promise.resolve(null);
    }
    var kid = b64encode(message.kid);
    // A key id may name more than one signer (HCERT 3.3.3): each is tried in turn.
    var named = foreign.dcc.signers.filter(function (s) { return s.kid === kid; });
    if (!named.length) {
      steps.unknown("unknown_kid");
      return Promise.resolve(null);
    }
    var ec = message.alg === -7;
    var fitting = named.filter(function (s) { return (s.key_type.indexOf("EC") === 0) === ec; });
    if (!fitting.length) {
      steps.failed("signature", "wrong_key_type");
      return Promise.resolve(null);
    }
    if (ec && message.signature.length !== 64) {
      steps.failed("signature", "bad_signature");
      return Promise.resolve(null);
    }
    return fitting.reduce(function (found, signer) {
      return found.then(function (earlier) {
        if (earlier) { return earlier; }
        return verifySignature(ec ? "ec" : "rsa", signer.public_key, message.signature,
          message.toBeSigned).then(function (good) { return good ? signer : null; });
      });
    }, Promise.resolve(null)).then(function (signer) {
      if (!signer) {
        steps.failed("signature", "bad_signature");
        return null;
      }
      steps.passed("signature");
      return signer;
    });
  }

  function dccEntry(sets, kind, item) {
    var entry = { kind: kind, disease: display(sets, "disease", item.tg),
      country: text(item.co), issuer: text(item.is) };
    if (kind === "vaccination") {
      entry.date = text(item.dt);
      entry.product = display(sets, "product", item.mp);
      entry.dose = item.dn !== undefined && item.dn !== null && item.sd !== undefined &&
        item.sd !== null ? item.dn + "/" + item.sd : null;
    } else if (kind === "test") {
      entry.date = text(item.sc);
      entry.product = [display(sets, "test_type", item.tt), text(item.nm),
        display(sets, "manufacturer", item.ma)].filter(Boolean).join(" · ") || null;
      entry.result = display(sets, "test_result", item.tr);
    } else {
      entry.date = text(item.fr);
      entry.validFrom = text(item.df);
      entry.validUntil = text(item.du);
    }
    return entry;
  }

  function dccSummary(certificate, sets) {
    var names = certificate.nam || {};
    var given = text(names.gn) || text(names.gnt);
    var family = text(names.fn) || text(names.fnt);
    var entries = [];
    [["v", "vaccination"], ["t", "test"], ["r", "recovery"]].forEach(function (pair) {
      (certificate[pair[0]] || []).forEach(function (item) {
        entries.push(dccEntry(sets, pair[1], item));
      });
    });
    return { name: [given, family].filter(Boolean).join(" ") || null,
      birthDate: text(certificate.dob), entries: entries };
  }

  function verifyDcc(value, foreign, now) {
    var steps = new Steps(DCC_STEPS);
    var done = function (issuer, summary) {
      return foreignResult("dcc", steps, issuer, summary);
    };
    if (value.length > 8192) { steps.failed("prefix", "too_long"); return Promise.resolve(done()); }
    value = withoutLineEnd(value);
    if (value.indexOf("HC1:") !== 0) {
      steps.failed("prefix", "bad_prefix");
      return Promise.resolve(done());
    }
    steps.passed("prefix");
    var compressed;
    try { compressed = b45decode(value.slice(4)); } catch (e) {
      steps.failed("base45", "bad_base45");
      return Promise.resolve(done());
    }
    steps.passed("base45");
    return inflateWith("deflate", compressed, 64 * 1024).then(function (raw) {
      steps.passed("zlib");
      var message, read = null;
      try { message = readSign1(raw); } catch (e) {
        steps.failed("cose", "bad_cose");
        return done();
      }
      steps.passed("cose");
      try {
        read = dccClaims(message.payload);
        steps.passed("cbor");
        if (schemaOk(read.certificate, foreign.dcc.schema)) { steps.passed("schema"); }
        else { steps.failed("schema", "schema_invalid"); }
      } catch (e) {
        steps.failed("cbor", e.message);
      }
      var readable = read !== null && steps.outcomes.schema === true;
      var summary = readable ? dccSummary(read.certificate, foreign.value_sets || {}) : null;
      return dccSignature(message, foreign, steps).then(function (signer) {
        if (!signer || read === null) { return done(null, summary); }
        var notBefore = Date.parse(signer.not_before);
        var notAfter = Date.parse(signer.not_after);
        if (read.issued < notBefore) { steps.failed("expiry", "issued_before_certificate"); }
        else if (now < read.issued) { steps.failed("expiry", "not_yet_valid"); }
        else if (now > read.expires) { steps.failed("expiry", "expired"); }
        else if (read.expires > notAfter) { steps.failed("expiry", "expires_after_certificate"); }
        else { steps.passed("expiry"); }
        var kinds = ["v", "t", "r"].filter(function (k) {
          return Object.prototype.hasOwnProperty.call(read.certificate, k);
        });
        if (kinds.length === 1) {
          var usages = (signer.key_usages || []).map(function (oid) {
            var match = /^1\.3\.6\.1\.4\.1\.(?:0\.)?1847\.2021\.1\.([123])$/.exec(oid);
            return match ? Number(match[1]) : null;
          }).filter(function (n) { return n !== null; });
          if (usages.length && usages.indexOf(KEY_USAGE[kinds[0]]) < 0) {
            steps.failed("key_usage", "wrong_key_usage");
          } else {
            steps.passed("key_usage");
          }
        }
        return done(read.issuer || signer.country, summary);
      });
    }, function () {
      steps.failed("zlib", "bad_compression");
      return done();
    });
  }

  // -- SMART Health Cards --------------------------------------------------------------

  function shcDigits(value) {
    if (value.length > 8192) { throw new Error("too_long"); }
    var line = withoutLineEnd(value);
    if (line.indexOf("shc:/") !== 0) { throw new Error("bad_prefix"); }
    var single = /^shc:\/([0-9]*)$/.exec(line);
    if (single) { return single[1]; }
    var chunk = /^shc:\/([1-9][0-9]?)\/([1-9][0-9]?)\/([0-9]*)$/.exec(line);
    if (!chunk || Number(chunk[1]) > Number(chunk[2])) { throw new Error("bad_chunks"); }
    if (Number(chunk[2]) !== 1) { throw new Error("missing_chunks"); }
    return chunk[3];
  }

  function shcCharacters(digits) {
    if (!digits || digits.length % 2) { throw new Error("bad_numeric"); }
    var out = "";
    for (var i = 0; i < digits.length; i += 2) {
      var n = Number(digits.substr(i, 2));
      if (n > 77) { throw new Error("bad_numeric"); }
      out += String.fromCharCode(n + 45);
    }
    return out;
  }

  function shcJws(compact) {
    var parts = compact.split(".");
    if (parts.length !== 3) { throw new Error("bad_jws"); }
    var header, payload, signature;
    try {
      header = strictJson(b64urlStrict(parts[0]));
      payload = b64urlStrict(parts[1]);
      signature = b64urlStrict(parts[2], 64);
    } catch (e) { throw new Error("bad_jws"); }
    if (!isObject(header) || "crit" in header) { throw new Error("bad_jws"); }
    if (header.alg !== "ES256") { throw new Error("unsupported_algorithm"); }
    if (header.zip !== "DEF" || typeof header.kid !== "string") { throw new Error("bad_jws"); }
    return { header: header, payload: payload, signature: signature,
      signingInput: new TextEncoder().encode(parts[0] + "." + parts[1]) };
  }

  function shcNumber(value) {
    if (typeof value !== "number" || !isFinite(value) || value < 0 || value >= Math.pow(2, 37)) {
      throw new Error("bad_payload");
    }
  }

  function shcPayload(inflated) {
    var payload;
    try { payload = strictJson(inflated); } catch (e) { throw new Error("bad_payload"); }
    if (!isObject(payload) || typeof payload.iss !== "string") { throw new Error("bad_payload"); }
    shcNumber(payload.nbf);
    if ("exp" in payload) { shcNumber(payload.exp); }
    var vc = payload.vc;
    if (!isObject(vc) || !Array.isArray(vc.type) || vc.type.indexOf(HEALTH_CARD) < 0) {
      throw new Error("bad_payload");
    }
    if (!isObject(vc.credentialSubject) || !isObject(vc.credentialSubject.fhirBundle)) {
      throw new Error("bad_payload");
    }
    if ("rid" in vc && !(typeof vc.rid === "string" && /^[A-Za-z0-9_-]{1,24}$/.test(vc.rid))) {
      throw new Error("bad_payload");
    }
    return payload;
  }

  function shcKeys(foreign) {
    var keys = {};
    var issuers = [];
    foreign.shc.issuers.forEach(function (issuer) {
      issuers.push(issuer.iss);
      issuer.keys.forEach(function (key) {
        (keys[key.kid] = keys[key.kid] || []).push({ iss: issuer.iss, jwk: key,
          crlVersion: key.crl_version, issuer: issuer });
      });
    });
    return { keys: keys, issuers: issuers };
  }

  function first(value) {
    return Array.isArray(value) && value.length && isObject(value[0]) ? value[0] : {};
  }

  function coding(concept) { return isObject(concept) ? first(concept.coding) : {}; }

  function shcSummary(payload, sets) {
    var bundle = payload.vc.credentialSubject.fhirBundle;
    if (bundle.resourceType !== "Bundle" || !Array.isArray(bundle.entry)) { return null; }
    var resources = bundle.entry.filter(function (entry) {
      return isObject(entry) && isObject(entry.resource);
    }).map(function (entry) { return entry.resource; });
    var patient = resources.filter(function (r) { return r.resourceType === "Patient"; })[0];
    if (!patient) { return null; }
    var name = first(patient.name);
    var parts = (Array.isArray(name.given) ? name.given : []).filter(function (part) {
      return typeof part === "string";
    });
    if (typeof name.family === "string") { parts.push(name.family); }
    var entries = [];
    resources.forEach(function (resource) {
      var code, performer;
      if (resource.resourceType === "Immunization") {
        var vaccine = coding(resource.vaccineCode);
        code = text(vaccine.code);
        performer = first(resource.performer).actor;
        entries.push({ kind: "vaccination", date: text(resource.occurrenceDateTime),
          product: vaccine.system === CVX ? display(sets, "cvx", code) : text(vaccine.display) || code,
          issuer: isObject(performer) ? text(performer.display) : null });
      } else if (resource.resourceType === "Observation") {
        var test = coding(resource.code);
        var value = coding(resource.valueCodeableConcept);
        code = text(test.code);
        entries.push({ kind: "test", date: text(resource.effectiveDateTime),
          product: display(sets, "loinc", code) || text(test.display),
          result: display(sets, "test_result", text(value.code)) || text(value.display),
          issuer: text(first(resource.performer).display) });
      }
    });
    return { name: parts.join(" ") || text(name.text), birthDate: text(patient.birthDate),
      entries: entries };
  }

  // An issuer's revocation list: each rid, with the time before which cards are revoked
  // ("rid.timestamp"), or for good; the widest revocation of a rid listed twice wins.
  function revokes(list, rid, nbf) {
    var stamp, listed = false;
    list.rids.forEach(function (entry) {
      var match = /^([A-Za-z0-9_-]{1,24})(?:\.(\d{1,12}))?$/.exec(entry);
      if (!match || match[1] !== rid) { return; }
      var value = match[2] === undefined ? null : Number(match[2]);
      stamp = !listed ? value : stamp === null || value === null ? null : Math.max(stamp, value);
      listed = true;
    });
    return listed && (stamp === null || nbf < stamp);
  }

  function verifyShc(value, foreign, now) {
    var steps = new Steps(SHC_STEPS);
    var done = function (payload, summary) {
      return foreignResult("shc", steps, payload ? payload.iss : null, summary);
    };
    var digits, jws;
    try { digits = shcDigits(value); } catch (e) {
      steps.failed("prefix", e.message);
      return Promise.resolve(done());
    }
    steps.passed("prefix");
    try {
      var compact = shcCharacters(digits);
      steps.passed("numeric");
      jws = shcJws(compact);
    } catch (e) {
      steps.failed(e.message === "bad_numeric" ? "numeric" : "jws", e.message);
      return Promise.resolve(done());
    }
    steps.passed("jws");
    return inflateWith("deflate-raw", jws.payload, 256 * 1024).then(function (inflated) {
      steps.passed("deflate");
      try {
        var payload = shcPayload(inflated);
        steps.passed("payload");
        return payload;
      } catch (e) {
        steps.failed("payload", e.message);
        return null;
      }
    }, function () {
      steps.failed("deflate", "bad_deflate");
      return null;
    }).then(function (payload) {
      var known = shcKeys(foreign);
      var candidates = known.keys[jws.header.kid] || [];
      var iss = payload ? payload.iss : null;
      var checked;
      if (!candidates.length) {
        if (known.issuers.indexOf(iss) >= 0) { steps.failed("signature", "unknown_key"); }
        else { steps.unknown("unknown_issuer"); }
        checked = Promise.resolve(null);
      } else {
        checked = verifySignature("jwk", candidates[0].jwk, jws.signature, jws.signingInput)
          .then(function (good) {
            if (!good) { steps.failed("signature", "bad_signature"); return null; }
            if (!payload) { steps.passed("signature"); return null; }
            var match = candidates.filter(function (c) { return c.iss === iss; })[0];
            if (!match) { steps.failed("signature", "wrong_issuer"); return null; }
            steps.passed("signature");
            return match;
          });
      }
      return checked.then(function (key) {
        if (!payload) { return done(); }
        var summary = shcSummary(payload, foreign.value_sets || {});
        if (summary === null) { steps.failed("fhir", "bad_fhir"); } else { steps.passed("fhir"); }
        if (key) {
          var stamp = now / 1000;
          if (stamp < payload.nbf) { steps.failed("expiry", "not_yet_valid"); }
          else if ("exp" in payload && stamp > payload.exp) { steps.failed("expiry", "expired"); }
          else { steps.passed("expiry"); }
          var list = key.issuer.revocations.filter(function (r) { return r.kid === key.jwk.kid; })[0];
          if (key.crlVersion === null || key.crlVersion === undefined) { steps.passed("revocation"); }
          else if (!list) { steps.unknown("revocation_list_missing"); }
          else if (list.ctr < key.crlVersion) { steps.unknown("revocation_list_stale"); }
          else if (payload.vc.rid !== undefined && payload.vc.rid !== null &&
                   revokes(list, payload.vc.rid, payload.nbf)) { steps.failed("revocation", "revoked"); }
          else { steps.passed("revocation"); }
        }
        return done(payload, summary);
      });
    });
  }

  var NO_FOREIGN = { dcc: { signers: [], schema: null }, shc: { issuers: [] }, value_sets: {} };

  // Check another issuer's certificate with the foreign list kept on the device.
  function verifyForeign(value, now) {
    var held = storedLists();
    var format = value.indexOf("shc:/") === 0 ? "shc" : "dcc";
    if (!held) {
      return Promise.resolve({ format: format, result: "cannot_verify", reason: "trust_list_stale",
        steps: {}, summary: null, issuer: null });
    }
    var opened = held.bundle.foreign ? openList(held.bundle.foreign, "foreign-trust")
      : openList(held.bundle.trust_list, "trust-list").then(function () { return NO_FOREIGN; });
    return opened.then(function (foreign) {
      if (foreign.issued_at &&
          now - Date.parse(foreign.issued_at) > foreign.max_age_seconds * 1000) {
        return { format: format, result: "cannot_verify", reason: "trust_list_stale", steps: {},
          summary: null, issuer: null };
      }
      return format === "shc" ? verifyShc(value, foreign, now) : verifyDcc(value, foreign, now);
    }, function (error) {
      return { format: format, result: "cannot_verify", reason: error.message || "bad_list",
        steps: {}, summary: null, issuer: null };
    });
  }

  function entryLine(entry) {
    var parts = [entry.disease, entry.product, entry.dose, entry.result];
    if (entry.validFrom || entry.validUntil) {
      parts.push((entry.validFrom || "…") + " – " + (entry.validUntil || "…"));
    }
    parts.push(entry.country, entry.issuer);
    var kind = root.dataset["k" + entry.kind.charAt(0).toUpperCase() + entry.kind.slice(1)];
    return (kind || entry.kind) + " " + (entry.date || "") + ": " +
      parts.filter(Boolean).join(" · ");
  }

  function foreignProblem(found) {
    if (found.result === "cannot_verify") { return root.dataset.qCannotVerify; }
    var key = "q" + (found.reason || "other").split("_").map(function (part) {
      return part.charAt(0).toUpperCase() + part.slice(1);
    }).join("");
    return root.dataset[key] || root.dataset.qOther;
  }

  function showForeign(found) {
    var box = document.getElementById("device-result");
    var old = document.getElementById("server-result");
    if (old) { old.hidden = true; }
    var part = function (name) { return box.querySelector('[data-part="' + name + '"]'); };
    var lines = part("lines");
    lines.textContent = "";
    box.className = "code " + (found.result === "valid" ? "green"
      : found.result === "cannot_verify" ? "amber" : "red");
    var unreadable = READING.some(function (step) { return found.steps[step] === false; });
    part("colour").textContent = found.result === "valid" ? root.dataset.fValid
      : say(found.result === "cannot_verify" ? "Cannot" : "Invalid");
    var summary = unreadable ? null : found.summary;
    part("holder").textContent = summary && summary.name
      ? summary.name + (summary.birthDate ? " · " + summary.birthDate : "") : "";
    (summary ? summary.entries : []).forEach(function (entry) {
      var line = document.createElement("p");
      line.className = "detail";
      line.textContent = entryLine(entry);
      lines.appendChild(line);
    });
    part("detail").textContent = found.result === "valid" ? ""
      : unreadable ? problem("other") : foreignProblem(found);
    var name = root.dataset[found.format === "shc" ? "fShc" : "fDcc"];
    part("issuer").textContent = unreadable ? "" : found.issuer ? name + " · " + found.issuer : name;
    var held = storedLists();
    part("source").textContent = held ? say("OnDevice", hkTime(new Date(held.fetched_at))) : "";
    box.dataset.result = found.result;
    box.hidden = false;
    box.scrollIntoView({ block: "start" });
  }

  function whose(claims) {
    if (!claims || !claims.issuer) { return ""; }
    var name = function (prefix, code) {  // data-j-hk is dataset.jHk
      var letters = String(code).toLowerCase().replace(/[^a-z]/g, "");
      return root.dataset[prefix + letters.charAt(0).toUpperCase() + letters.slice(1)] || code;
    };
    return name("j", claims.issuer) + (claims.original ? " · " + name("o", claims.original) : "");
  }

  function show(found) {
    if (found.format) { showForeign(found); return; }
    var box = document.getElementById("device-result");
    var old = document.getElementById("server-result");
    if (old) { old.hidden = true; }
    var part = function (name) { return box.querySelector('[data-part="' + name + '"]'); };
    var claims = found.claims;
    box.className = "code";
    if (found.result === "valid") {
      box.classList.add(claims.colour);
      part("colour").textContent = say({ green: "Green", amber: "Amber", red: "Red" }[claims.colour]);
      part("holder").textContent = claims.initials + " · " + claims.document;
      part("detail").textContent = say("ValidUntil", hkTime(new Date(claims.validUntil)));
    } else {
      box.classList.add(found.result === "cannot_verify" ? "amber" : "red");
      part("colour").textContent = say(found.result === "cannot_verify" ? "Cannot" : "Invalid");
      part("holder").textContent = claims ? claims.initials + " · " + claims.document : "";
      part("detail").textContent = problem(found.reason);
    }
    part("issuer").textContent = whose(claims);
    part("lines").textContent = "";
    var held = storedLists();
    part("source").textContent = held ? say("OnDevice", hkTime(new Date(held.fetched_at))) : "";
    box.dataset.result = found.result;
    box.hidden = false;
    box.scrollIntoView({ block: "start" });
  }

  function verifyHere(text) {
    return verifyOnDevice(text).then(show);
  }

  // --- the forms work offline too ----------------------------------------------------

  document.getElementById("text-form").addEventListener("submit", function (event) {
    if (navigator.onLine) { return; }
    event.preventDefault();
    verifyHere(document.getElementById("f-code_text").value);
  });

  function readImage(file) {
    return createImageBitmap(file).then(function (bitmap) {
      var canvas = document.createElement("canvas");
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
      var context = canvas.getContext("2d");
      context.drawImage(bitmap, 0, 0);
      var pixels = context.getImageData(0, 0, canvas.width, canvas.height);
      var code = window.jsQR(pixels.data, pixels.width, pixels.height);
      if (!code || !code.data) { throw new Error("no_code"); }
      return code.data;
    });
  }

  document.getElementById("photo-form").addEventListener("submit", function (event) {
    var input = document.getElementById("f-photo");
    if (navigator.onLine || !window.jsQR || !input.files.length) { return; }
    event.preventDefault();
    readImage(input.files[0]).then(verifyHere, function () {
      show(verdict("invalid", "no_code"));
      document.getElementById("device-result").querySelector('[data-part="detail"]')
        .textContent = say("NoCode");
    });
  });

  // --- the camera ----------------------------------------------------------------------

  var status = document.getElementById("camera-status");
  var video = document.getElementById("camera-video");
  var stream = null;

  function stopCamera() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    video.hidden = true;
  }

  function scanFrames() {
    if (!stream) { return; }
    if (video.readyState >= 2 && video.videoWidth) {
      var canvas = document.createElement("canvas");
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      var context = canvas.getContext("2d");
      context.drawImage(video, 0, 0);
      var pixels = context.getImageData(0, 0, canvas.width, canvas.height);
      var code = window.jsQR(pixels.data, pixels.width, pixels.height,
        { inversionAttempts: "dontInvert" });
      // Another issuer's certificate (an EU DCC, a SMART Health Card) is checked like
      // ours: by the server while online, on the device with the kept lists offline.
      var foreign = code && code.data && /^(HC1:|shc:\/)/.test(code.data);
      if (code && code.data && (code.data.indexOf(prefix) === 0 || foreign)) {
        stopCamera();
        status.textContent = "";
        if (navigator.onLine) {
          document.getElementById("f-code_text").value = code.data;
          document.getElementById("text-form").submit();
        } else {
          verifyHere(code.data);
        }
        return;
      }
    }
    requestAnimationFrame(scanFrames);
  }

  function cameraUnavailable() {
    status.textContent = say("NoCamera");
  }

  document.getElementById("camera-start").addEventListener("click", function () {
    if (!window.jsQR || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      cameraUnavailable();
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        video.hidden = false;
        status.textContent = say("Looking");
        return video.play();
      }).then(scanFrames).catch(function () {
        stopCamera();
        cameraUnavailable();
      });
  });

  // --- start ---------------------------------------------------------------------------

  function loadDecoder() {
    var source = root.dataset.decoder;
    if (!source) { return; }
    var script = document.createElement("script");
    script.src = source;
    document.head.appendChild(script);
  }

  root.hidden = false;
  loadDecoder();
  var kept = storedLists();
  if (kept && !(kept.bundle && kept.bundle.trust_list &&
                kept.bundle.trust_list.kid === pinnedAnchor())) {
    localStorage.removeItem(LISTS);  // signed by another anchor: worth nothing here
  }
  showListsStatus();
  function refresh() {
    if (navigator.onLine) { fetchLists().catch(showListsStatus); }
  }
  refresh();
  window.setInterval(refresh, 30 * 1000);
  window.addEventListener("online", refresh);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/officer/scan-worker.js", { scope: "/officer/" })
      .catch(function () { /* the page still works online */ });
  }
  window.borderpassScanner = { verify: verifyOnDevice, fetchLists: fetchLists };
})();
