/* The check-in app's logic, without a page: what the Python phone library
 * (borderpass.checkin.phone, .qr and .exposure) does, in the browser with WebCrypto.
 *
 * - Venue codes: the signed BPV1 format (Ed25519 by the platform's venue-signing key,
 *   docs/formats/venue-qr.md) and the legacy HKEN format; taxis by registration plate.
 * - Tokens: HMAC-SHA-256(secret, "BPX1" || hour as 8 bytes big-endian), first 16 bytes.
 * - The exposure list (docs/formats/exposure-list.md): read as written, its Ed25519
 *   signature checked against the keys the device trusts, then indexed by token.
 * - Matching: at least 60 s of overlap with cases at the place (direct), or any overlap
 *   with the day after a case in a taxi (indirect), in the last 14 days.
 * - Uploads (format BPU1): canonical JSON signed by the phone's Ed25519 device key.
 *
 * Times are whole seconds since 1970-01-01T00:00Z. Every refusal is an Error whose
 * message is a reason code and whose `detail` says what was wrong.
 */
(function (global) {
  "use strict";

  var HOUR = 3600;
  var DAY = 86400;
  var HK_OFFSET = 8 * HOUR;  // Hong Kong has kept UTC+8 without summer time since 1979
  var DIRECT_MIN_OVERLAP = 60;
  var MATCH_WINDOW = 14 * DAY;
  var INDIRECT_WINDOW = DAY;
  var KEEP = 31 * DAY;
  var LAST_SECOND = 253402300799;
  var MAX_TEXT = 4096;
  var encoder = new TextEncoder();
  var subtle = global.crypto.subtle;

  function refusal(code, detail) {
    var error = new Error(code);
    error.detail = detail;
    return error;
  }

  // --- bytes --------------------------------------------------------------------------

  function hex(bytes) {
    var out = "";
    for (var i = 0; i < bytes.length; i++) { out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16); }
    return out;
  }

  function fromHex(text) {
    var out = new Uint8Array(text.length / 2);
    for (var i = 0; i < out.length; i++) { out[i] = parseInt(text.substr(2 * i, 2), 16); }
    return out;
  }

  function b64urlEncode(bytes) {
    var raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function rawBytes(raw) {
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }

  /* Unpadded base64url in its one spelling (kit/decoding.b64url_decode). */
  function b64urlDecode(text, size) {
    if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text)) {
      throw refusal("bad_base64url", "not base64url");
    }
    if (text.length % 4 === 1) { throw refusal("bad_base64url", "no bytes have this length"); }
    var padded = text.replace(/-/g, "+").replace(/_/g, "/");
    while (padded.length % 4) { padded += "="; }
    var bytes = rawBytes(atob(padded));
    if (b64urlEncode(bytes) !== text) { throw refusal("bad_base64url", "spare bits set"); }
    if (size !== undefined && bytes.length !== size) {
      throw refusal("bad_base64url", bytes.length + " bytes where " + size + " are expected");
    }
    return bytes;
  }

  /* Padded standard base64 in its one spelling (kit/decoding.b64_decode). */
  function b64Decode(text) {
    if (typeof text !== "string" || text.length % 4 ||
        !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
      throw refusal("bad_base64", "not padded base64");
    }
    var bytes;
    try { bytes = rawBytes(atob(text)); } catch (e) { throw refusal("bad_base64", "not padded base64"); }
    var raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    if (btoa(raw) !== text) { throw refusal("bad_base64", "spare bits set"); }
    return bytes;
  }

  function utf8(bytes) {
    try {
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch (e) {
      throw refusal("bad_json", "not UTF-8");
    }
  }

  function sha256(bytes) {
    return subtle.digest("SHA-256", bytes).then(function (d) { return new Uint8Array(d); });
  }

  function ed25519Verify(publicRaw, message, signature) {
    return subtle.importKey("raw", publicRaw, { name: "Ed25519" }, false, ["verify"])
      .then(function (key) { return subtle.verify({ name: "Ed25519" }, key, signature, message); },
        function () { return false; });
  }

  // --- places and their secrets -----------------------------------------------------

  /* SHA-256(label || NUL || id), first 16 bytes: the secret of a place that has none. */
  function derivedSecret(label, id) {
    var joined = new Uint8Array(encoder.encode(label + "\u0000" + id));
    return sha256(joined).then(function (d) { return d.slice(0, 16); });
  }

  var PLATE = /^[A-HJ-NPR-Z]{2}[1-9][0-9]{0,3}$/;

  function normalisePlate(plate) {
    var normal = String(plate).replace(/\s+/g, "").toUpperCase();
    if (!PLATE.test(normal)) { throw refusal("invalid_plate", normal.slice(0, 12)); }
    return normal;
  }

  function taxiVenue(plate) {
    var normal = normalisePlate(plate);
    return derivedSecret("TAXI", normal).then(function (secret) {
      return { format: "taxi", venue_id: normal, name_zh: "的士 " + normal,
        name_zh_hans: "的士 " + normal, name_en: "Taxi " + normal, type: "taxi", secret: secret };
    });
  }

  function legacyVenue(text) {
    var body = text.slice(5);
    if (body.length < 10) { return Promise.reject(refusal("invalid_venue_code", "too short")); }
    var venueId = body.slice(1, 9);
    if (!/^[A-Za-z0-9]{8}$/.test(venueId)) {
      return Promise.reject(refusal("invalid_venue_code", "the venue id is not 8 letters or digits"));
    }
    var payload;
    try {
      payload = loadStrictJson(utf8(b64Decode(body.slice(9))));
    } catch (e) {
      return Promise.reject(refusal("invalid_venue_code", "the payload is not base64 of JSON"));
    }
    if (!payload || typeof payload !== "object" || Array.isArray(payload)) {
      return Promise.reject(refusal("invalid_venue_code", "the payload is not a JSON object"));
    }
    var names = ["nameZh", "nameEn", "type", "hash"];
    for (var i = 0; i < names.length; i++) {
      if (typeof payload[names[i]] !== "string") {
        return Promise.reject(refusal("invalid_venue_code", names[i] + " is missing"));
      }
    }
    var meta = payload.metadata;
    if (meta !== undefined && meta !== null && (typeof meta !== "object" || Array.isArray(meta))) {
      return Promise.reject(refusal("invalid_venue_code", "metadata is neither null nor an object"));
    }
    return sha256(encoder.encode("HKEN" + venueId + "2020")).then(function (digest) {
      if (hex(digest) !== payload.hash) {
        throw refusal("invalid_venue_code", "the hash does not match the venue id");
      }
      return derivedSecret("HKEN", venueId);
    }).then(function (secret) {
      return { format: "legacy", venue_id: venueId, name_zh: payload.nameZh,
        name_zh_hans: payload.nameZh, name_en: payload.nameEn, type: payload.type,
        secret: secret };
    });
  }

  function signedVenue(text, trust) {
    var dot = text.lastIndexOf(".");
    if (dot < 0) { return Promise.reject(refusal("invalid_venue_code", "the signature is missing")); }
    var signed = text.slice(0, dot);
    var signature, payload;
    try {
      signature = b64urlDecode(text.slice(dot + 1), 64);
    } catch (e) {
      return Promise.reject(refusal("invalid_venue_code", "the signature is not base64url of 64 bytes"));
    }
    try {
      payload = loadStrictJson(utf8(b64urlDecode(signed.slice(5))));
    } catch (e) {
      return Promise.reject(refusal("invalid_venue_code", "the payload is not base64url of JSON"));
    }
    if (!payload || typeof payload !== "object" || Array.isArray(payload)) {
      return Promise.reject(refusal("invalid_venue_code", "the payload is not a JSON object"));
    }
    var kid = payload.k;
    var publicText = typeof kid === "string" && Object.prototype.hasOwnProperty.call(trust, kid)
      ? trust[kid] : null;
    if (!publicText) {
      return Promise.reject(refusal("invalid_venue_code", "it is signed by a key this device does not trust"));
    }
    return ed25519Verify(b64urlDecode(publicText), encoder.encode(signed), signature)
      .then(function (good) {
        if (!good) { throw refusal("invalid_venue_code", "the signature does not verify"); }
        var texts = ["id", "nz", "ns", "ne", "t", "s"];
        var all = texts.concat(["g"]);
        for (var i = 0; i < all.length; i++) {
          if (!(all[i] in payload)) {
            throw refusal("invalid_venue_code", "the field " + all[i] + " is missing");
          }
        }
        var g = payload.g;
        var wellFormed = texts.every(function (n) { return typeof payload[n] === "string"; }) &&
          typeof g === "number" && Number.isInteger(g) && g >= 1 &&
          /^[A-Z0-9]{10}$/.test(payload.id);
        if (!wellFormed) { throw refusal("invalid_venue_code", "a field is malformed"); }
        var secret;
        try { secret = b64urlDecode(payload.s, 16); } catch (e) {
          throw refusal("invalid_venue_code", "the secret is not base64url of 16 bytes");
        }
        return { format: "signed", venue_id: payload.id, name_zh: payload.nz,
          name_zh_hans: payload.ns, name_en: payload.ne, type: payload.t, secret: secret,
          key_id: kid, generation: g };
      });
  }

  /* Read a venue code of either format; trust maps key ids to raw public keys (base64url). */
  function parseVenueCode(text, trust) {
    if (typeof text !== "string" || text.length > MAX_TEXT) {
      return Promise.reject(refusal("invalid_venue_code", "it is too long"));
    }
    if (text.slice(-2) === "\r\n") { text = text.slice(0, -2); }
    else if (text.slice(-1) === "\n") { text = text.slice(0, -1); }
    if (text.indexOf("HKEN:") === 0) { return legacyVenue(text); }
    if (text.indexOf("BPV1:") === 0) { return signedVenue(text, trust || {}); }
    return Promise.reject(refusal("invalid_venue_code", "it starts with neither HKEN: nor BPV1:"));
  }

  // --- tokens, the list and matching ------------------------------------------------

  var hmacKeys = new Map();

  function exposureToken(secret, hour) {
    var id = hex(secret);
    var keyed = hmacKeys.get(id);
    if (!keyed) {
      keyed = subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      hmacKeys.set(id, keyed);
    }
    var message = new Uint8Array(12);
    message.set(encoder.encode("BPX1"), 0);
    var high = Math.floor(hour / 4294967296), low = hour >>> 0;
    var view = new DataView(message.buffer);
    view.setUint32(4, high);
    view.setUint32(8, low);
    return keyed.then(function (key) { return subtle.sign("HMAC", key, message); })
      .then(function (mac) { return new Uint8Array(mac).slice(0, 16); });
  }

  var HEADER = /^BPX1 (0|[1-9][0-9]{0,11}) (0|[1-9][0-9]{0,8})$/;
  var ENTRY = /^([0-9a-f]{32}) (0|[1-9][0-9]{0,11}) (0|[1-9][0-9]{0,11}) ([DI])$/;
  var SIG = /^([0-9a-f]{8}) ([A-Za-z0-9_-]{86})$/;

  /* Verify and index an exposure list, read only as the format writes it. */
  function parseList(text, trust) {
    function bad(reason) { return Promise.reject(refusal("invalid_exposure_list", reason)); }
    if (typeof text !== "string" || !/^[\x00-\x7f]*$/.test(text)) { return bad("it is not ASCII text"); }
    if (text.slice(-1) !== "\n") { return bad("the last line does not end with LF"); }
    var cut = text.slice(0, -1).lastIndexOf("\nSIG ");
    if (cut < 0) { return bad("the signature line is missing"); }
    var body = text.slice(0, cut);
    var sigLine = SIG.exec(text.slice(cut + 5, -1));
    if (!sigLine) { return bad("the signature line is malformed"); }
    var signature;
    try { signature = b64urlDecode(sigLine[2], 64); } catch (e) { return bad("the signature line is malformed"); }
    var publicText = Object.prototype.hasOwnProperty.call(trust || {}, sigLine[1]) ? trust[sigLine[1]] : null;
    if (!publicText) { return bad("it is signed by an unknown key"); }
    return ed25519Verify(b64urlDecode(publicText), encoder.encode(body + "\n"), signature)
      .then(function (good) {
        if (!good) { throw refusal("invalid_exposure_list", "the signature does not verify"); }
        var lines = body.split("\n");
        var header = HEADER.exec(lines[0]);
        if (!header || Number(header[1]) > LAST_SECOND) {
          throw refusal("invalid_exposure_list", "the header is not BPX1 <generated> <count>");
        }
        var count = Number(header[2]);
        if (count !== lines.length - 1) {
          throw refusal("invalid_exposure_list", "the entry count does not match");
        }
        var index = new Map();
        for (var i = 1; i < lines.length; i++) {
          var entry = ENTRY.exec(lines[i]);
          if (!entry) { throw refusal("invalid_exposure_list", "an entry is malformed"); }
          var lo = Number(entry[2]), hi = Number(entry[3]);
          if (!(lo < hi && hi <= LAST_SECOND)) {
            throw refusal("invalid_exposure_list", "an entry's period is empty or past the year 9999");
          }
          if (!index.has(entry[1])) { index.set(entry[1], []); }
          index.get(entry[1]).push([lo, hi, entry[4]]);
        }
        return { generated_at: Number(header[1]), count: count, index: index };
      });
  }

  /* The visits of the last 14 days that meet the list, at most one match per visit;
   * visits are {ref, secret (16 bytes), start, end} in seconds. */
  function match(visits, published, now) {
    var oldest = now - MATCH_WINDOW;
    var found = [];
    return visits.reduce(function (chain, visit) {
      return chain.then(function () {
        var start = visit.start, end = visit.end;
        if (end < oldest || end <= start) { return; }
        var hours = [];
        for (var h = Math.floor(start / HOUR); h <= Math.floor((end - 1) / HOUR); h++) { hours.push(h); }
        return Promise.all(hours.map(function (hour) { return exposureToken(visit.secret, hour); }))
          .then(function (tokens) {
            var direct = 0, dLo = end, dHi = start, iLo = end, iHi = start;
            tokens.forEach(function (token) {
              var hits = published.index.get(hex(token));
              if (!hits) { return; }
              hits.forEach(function (hit) {
                var lo = Math.max(start, hit[0]), hi = Math.min(end, hit[1]);
                if (hi <= lo) { return; }
                if (hit[2] === "D") {
                  direct += hi - lo;
                  dLo = Math.min(dLo, lo);
                  dHi = Math.max(dHi, hi);
                } else {
                  iLo = Math.min(iLo, lo);
                  iHi = Math.max(iHi, hi);
                }
              });
            });
            if (direct >= DIRECT_MIN_OVERLAP) {
              found.push({ ref: visit.ref, kind: "direct", overlap_start: dLo, overlap_end: dHi });
            } else if (iHi > iLo) {
              found.push({ ref: visit.ref, kind: "indirect", overlap_start: iLo, overlap_end: iHi });
            }
          });
      });
    }, Promise.resolve()).then(function () { return found; });
  }

  /* 23:59:59 Hong Kong time on the Hong Kong day of an instant (kit/clock.end_of_day). */
  function endOfDay(seconds) {
    return Math.floor((seconds + HK_OFFSET) / DAY) * DAY + DAY - 1 - HK_OFFSET;
  }

  /* What to do by when (phone.Phone.warnings): a test within 2 days (direct) or 3 days
   * (indirect) from now or the overlap's end, and symptoms watched for 14 days. */
  function advice(found, now) {
    var after = Math.max(found.overlap_end, now);
    var days = found.kind === "direct" ? 2 : 3;
    return { kind: found.kind, ref: found.ref, overlap_start: found.overlap_start,
      overlap_end: found.overlap_end, test_by: endOfDay(after + days * DAY),
      watch_until: endOfDay(found.overlap_end + 14 * DAY) };
  }

  function warnings(visits, published, now) {
    return match(visits, published, now).then(function (found) {
      var out = found.map(function (m) { return advice(m, now); });
      out.sort(function (a, b) {
        return (a.kind !== "direct") - (b.kind !== "direct") || a.overlap_start - b.overlap_start;
      });
      return out;
    });
  }

  // --- uploads ----------------------------------------------------------------------

  /* JSON with keys sorted and no spaces, as Python's json.dumps(sort_keys=True,
   * separators=(",", ":"), ensure_ascii=False) writes it. */
  function canonicalJson(value) {
    if (value === null || typeof value !== "object") { return JSON.stringify(value); }
    if (Array.isArray(value)) { return "[" + value.map(canonicalJson).join(",") + "]"; }
    return "{" + Object.keys(value).sort().map(function (key) {
      return JSON.stringify(key) + ":" + canonicalJson(value[key]);
    }).join(",") + "}";
  }

  /* An instant as Python's datetime.isoformat() writes an aware UTC time. */
  function isoUtc(seconds) {
    return new Date(seconds * 1000).toISOString().replace(/\.000Z$/, "+00:00");
  }

  var KINDS = { signed: "venue", legacy: "legacy", taxi: "taxi" };

  /* The records an upload carries: the last 31 days, each with a positive length. */
  function uploadRecords(checkins, now) {
    return checkins.filter(function (c) { return c.end >= now - KEEP && c.end > c.start; })
      .map(function (c) {
        return { kind: KINDS[c.format] || c.format, place_id: c.venue_id,
          start: isoUtc(c.start), end: isoUtc(c.end) };
      });
  }

  /* The signed BPU1 bundle; key is a CryptoKeyPair of Ed25519, publicRaw its 32 bytes. */
  function uploadBundle(checkins, keyPair, publicRaw, inUseSince, now) {
    var bundle = { format: "BPU1", device_key: b64urlEncode(publicRaw), created_at: isoUtc(now),
      in_use_since: isoUtc(inUseSince), records: uploadRecords(checkins, now) };
    var message = encoder.encode(canonicalJson(bundle));
    return subtle.sign({ name: "Ed25519" }, keyPair.privateKey, message).then(function (sig) {
      bundle.signature = b64urlEncode(new Uint8Array(sig));
      return bundle;
    });
  }

  function loadStrictJson(text) {
    duplicateKeyCheck(text);
    return JSON.parse(text);
  }

  /* Refuse a JSON text that repeats a key in one object, or nests past 32 levels. */
  function duplicateKeyCheck(text) {
    if (text.charCodeAt(0) === 0xfeff) { throw refusal("bad_json", "byte order mark"); }
    var stack = [];
    var i = 0;
    while (i < text.length) {
      var c = text[i];
      if (c === '"') {
        var j = i + 1;
        while (j < text.length && text[j] !== '"') { j += text[j] === "\\" ? 2 : 1; }
        var top = stack[stack.length - 1];
        if (top && top.object && top.wantKey) {
          var key = JSON.parse(text.slice(i, j + 1));
          if (top.keys.has(key)) { throw refusal("bad_json", "a key appears twice"); }
          top.keys.add(key);
          top.wantKey = false;
        }
        i = j + 1;
        continue;
      }
      if (c === "{" || c === "[") {
        stack.push({ object: c === "{", wantKey: c === "{", keys: new Set() });
        if (stack.length > 32) { throw refusal("bad_json", "nested too deeply"); }
      } else if (c === "}" || c === "]") {
        stack.pop();
      } else if (c === ",") {
        var current = stack[stack.length - 1];
        if (current && current.object) { current.wantKey = true; }
      }
      i++;
    }
  }

  global.borderpassCheckinCore = {
    HOUR: HOUR, DAY: DAY, KEEP: KEEP, b64urlDecode: b64urlDecode, b64urlEncode: b64urlEncode,
    hex: hex, fromHex: fromHex, derivedSecret: derivedSecret, normalisePlate: normalisePlate,
    taxiVenue: taxiVenue, parseVenueCode: parseVenueCode, exposureToken: exposureToken,
    parseList: parseList, match: match, warnings: warnings, endOfDay: endOfDay,
    canonicalJson: canonicalJson, isoUtc: isoUtc, uploadRecords: uploadRecords,
    uploadBundle: uploadBundle, refusal: refusal
  };
})(self);
