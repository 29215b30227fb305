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

  function cborDecode(bytes) {
    var pos = 0;
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
    function item(depth) {
      if (depth > 16) { throw new Error("bad_cose"); }
      var first = byte();
      var major = first >> 5;
      var info = first & 31;
      var n, i, out;
      switch (major) {
        case 0: return length(info);
        case 1: return -1 - length(info);
        case 2: return take(length(info));
        case 3: return new TextDecoder("utf-8", { fatal: true }).decode(take(length(info)));
        case 4:
          n = length(info);
          out = [];
          for (i = 0; i < n; i++) { out.push(item(depth + 1)); }
          return out;
        case 5:
          n = length(info);
          out = new Map();
          for (i = 0; i < n; i++) {
            var key = item(depth + 1);
            out.set(key, item(depth + 1));
          }
          return out;
        case 6: return { tag: length(info), value: item(depth + 1) };
        default:
          if (info === 20) { return false; }
          if (info === 21) { return true; }
          if (info === 22) { return null; }
          throw new Error("bad_cose");
      }
    }
    var value = item(0);
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

  function verifyOnDevice(text) {
    var held = storedLists();
    if (!held) { return Promise.resolve(verdict("cannot_verify", "trust_list_stale")); }
    var now = Date.now();
    var trust, revocations, partners, message, protectedMap, kid;
    text = text.trim();
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

  function whose(claims) {
    if (!claims || !claims.issuer) { return ""; }
    var name = function (prefix, code) {  // data-j-hk is dataset.jHk
      var letters = String(code).toLowerCase().replace(/[^a-z]/g, "");
      return root.dataset[prefix + letters.charAt(0).toUpperCase() + letters.slice(1)] || code;
    };
    return name("j", claims.issuer) + (claims.original ? " · " + name("o", claims.original) : "");
  }

  function show(found) {
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
      // Another issuer's certificate (an EU DCC, a SMART Health Card) is checked by the
      // server, with the trust material it keeps for them.
      var foreign = code && code.data && /^(HC1:|shc:\/)/.test(code.data);
      if (code && code.data && (code.data.indexOf(prefix) === 0 || foreign)) {
        stopCamera();
        status.textContent = "";
        if (navigator.onLine || foreign) {
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
