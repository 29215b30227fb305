/* The e-Channel app's gate-1 token, made on the phone with WebCrypto
 * (docs/formats/echannel-qr.md; borderpass.echannel.qr.make_token is the same in Python):
 *
 *   "HKEC1:" || Base45( COSE_Encrypt( COSE_Sign1( claims ) ) )
 *
 * - claims: canonical CBOR {1: enrolment id (16 bytes), 2: 30-second slot, 3: nonce};
 * - COSE_Sign1, ES256 with the device key (non-extractable, kept in IndexedDB), its key id
 *   (the first 8 bytes of SHA-256 of the public key's DER) in the unprotected header;
 * - COSE_Encrypt to the gates' P-256 key: a fresh ephemeral key, ECDH-ES + HKDF-256
 *   (RFC 9053 §6.3, context for A128GCM), AES-128-GCM.
 */
(function (global) {
  "use strict";

  var subtle = global.crypto.subtle;
  var SLOT_SECONDS = 30;
  var PREFIX = "HKEC1:";

  // --- canonical CBOR: the few types the token holds ---------------------------------

  function head(major, value) {
    if (value < 24) { return [(major << 5) | value]; }
    if (value < 0x100) { return [(major << 5) | 24, value]; }
    if (value < 0x10000) { return [(major << 5) | 25, value >> 8, value & 0xff]; }
    if (value < 0x100000000) {
      return [(major << 5) | 26, (value >>> 24) & 0xff, (value >>> 16) & 0xff,
        (value >>> 8) & 0xff, value & 0xff];
    }
    var high = Math.floor(value / 0x100000000), low = value >>> 0;
    return [(major << 5) | 27, (high >>> 24) & 0xff, (high >>> 16) & 0xff, (high >>> 8) & 0xff,
      high & 0xff, (low >>> 24) & 0xff, (low >>> 16) & 0xff, (low >>> 8) & 0xff, low & 0xff];
  }

  function concat(parts) {
    var size = parts.reduce(function (n, p) { return n + p.length; }, 0);
    var out = new Uint8Array(size), at = 0;
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }

  /* A value: a Number (integer), Uint8Array, string, Array, Map (keys sorted here by their
   * encoding, as RFC 8949 §4.2.1 asks), null, or {tag, value}. */
  function encode(value) {
    if (value === null) { return new Uint8Array([0xf6]); }
    if (typeof value === "number") {
      return new Uint8Array(value >= 0 ? head(0, value) : head(1, -1 - value));
    }
    if (value instanceof Uint8Array) { return concat([new Uint8Array(head(2, value.length)), value]); }
    if (typeof value === "string") {
      var text = new TextEncoder().encode(value);
      return concat([new Uint8Array(head(3, text.length)), text]);
    }
    if (Array.isArray(value)) {
      return concat([new Uint8Array(head(4, value.length))].concat(value.map(encode)));
    }
    if (value instanceof Map) {
      var pairs = Array.from(value.entries()).map(function (pair) {
        return [encode(pair[0]), encode(pair[1])];
      });
      pairs.sort(function (a, b) {
        for (var i = 0; i < Math.min(a[0].length, b[0].length); i++) {
          if (a[0][i] !== b[0][i]) { return a[0][i] - b[0][i]; }
        }
        return a[0].length - b[0].length;
      });
      var parts = [new Uint8Array(head(5, pairs.length))];
      pairs.forEach(function (pair) { parts.push(pair[0], pair[1]); });
      return concat(parts);
    }
    if (value && value.tag !== undefined) {
      return concat([new Uint8Array(head(6, value.tag)), encode(value.value)]);
    }
    throw new Error("cbor_unsupported");
  }

  // --- Base45 (RFC 9285) ----------------------------------------------------------------

  var B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

  function base45(bytes) {
    var out = "";
    for (var i = 0; i + 1 < bytes.length; i += 2) {
      var n = bytes[i] * 256 + bytes[i + 1];
      out += B45[n % 45] + B45[Math.floor(n / 45) % 45] + B45[Math.floor(n / 2025)];
    }
    if (bytes.length % 2) {
      var m = bytes[bytes.length - 1];
      out += B45[m % 45] + B45[Math.floor(m / 45)];
    }
    return out;
  }

  // --- keys ------------------------------------------------------------------------------

  function pemBody(pem) {
    var text = pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
    var raw = atob(text);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }

  function toPem(der) {
    var raw = "";
    for (var i = 0; i < der.length; i++) { raw += String.fromCharCode(der[i]); }
    var lines = btoa(raw).match(/.{1,64}/g).join("\n");
    return "-----BEGIN PUBLIC KEY-----\n" + lines + "\n-----END PUBLIC KEY-----\n";
  }

  /* The key id: the first 8 bytes of SHA-256 of the public key's DER (SPKI). */
  function kidOf(spki) {
    return subtle.digest("SHA-256", spki).then(function (d) { return new Uint8Array(d).slice(0, 8); });
  }

  /* Make the phone's device key: ECDSA P-256, its private half not extractable. */
  function makeDeviceKey() {
    return subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])
      .then(function (pair) {
        return subtle.exportKey("spki", pair.publicKey).then(function (spki) {
          var der = new Uint8Array(spki);
          return kidOf(der).then(function (kid) {
            return { pair: pair, spki: der, kid: kid, pem: toPem(der) };
          });
        });
      });
  }

  function gatesKey(pem) {
    var der = pemBody(pem);
    return Promise.all([
      subtle.importKey("spki", der, { name: "ECDH", namedCurve: "P-256" }, false, []),
      kidOf(der)
    ]).then(function (got) { return { key: got[0], kid: got[1] }; });
  }

  // --- the token ---------------------------------------------------------------------------

  function uuidBytes(id) {
    var hex = id.replace(/-/g, "");
    if (!/^[0-9a-f]{32}$/i.test(hex)) { throw new Error("bad_enrolment_id"); }
    var out = new Uint8Array(16);
    for (var i = 0; i < 16; i++) { out[i] = parseInt(hex.substr(2 * i, 2), 16); }
    return out;
  }

  function slotOf(seconds) { return Math.floor(seconds / SLOT_SECONDS); }

  function sign1(payload, device) {
    var protectedHeader = encode(new Map([[1, -7]]));
    var toBeSigned = encode(["Signature1", protectedHeader, new Uint8Array(0), payload]);
    return subtle.sign({ name: "ECDSA", hash: "SHA-256" }, device.pair.privateKey, toBeSigned)
      .then(function (signature) {
        return encode({ tag: 18, value: [protectedHeader, new Map([[4, device.kid]]), payload,
          new Uint8Array(signature)] });
      });
  }

  /* RFC 9053 §5.2's context, as the gates compute it: A128GCM, no party information, 128
   * bits, and the recipient algorithm (-25) as the protected part. */
  var KDF_CONTEXT = encode([1, [null, null, null], [null, null, null],
    [128, encode(new Map([[1, -25]]))]]);

  function encryptTo(plaintext, gates) {
    return subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"])
      .then(function (ephemeral) {
        return Promise.all([
          subtle.deriveBits({ name: "ECDH", public: gates.key }, ephemeral.privateKey, 256),
          subtle.exportKey("jwk", ephemeral.publicKey)
        ]);
      }).then(function (got) {
        var shared = got[0], jwk = got[1];
        return subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]).then(function (ikm) {
          return subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0),
            info: KDF_CONTEXT }, ikm, { name: "AES-GCM", length: 128 }, false, ["encrypt"]);
        }).then(function (contentKey) {
          var iv = global.crypto.getRandomValues(new Uint8Array(12));
          var protectedHeader = encode(new Map([[1, 1]]));
          var aad = encode(["Encrypt", protectedHeader, new Uint8Array(0)]);
          return subtle.encrypt({ name: "AES-GCM", iv: iv, additionalData: aad }, contentKey,
            plaintext).then(function (sealed) {
            var ephemeralKey = new Map([[1, 2], [-1, 1], [-2, b64url(jwk.x)], [-3, b64url(jwk.y)]]);
            var recipient = [new Uint8Array(0), new Map([[1, -25], [4, gates.kid],
              [-1, ephemeralKey]]), new Uint8Array(0)];
            return encode({ tag: 96, value: [protectedHeader, new Map([[5, iv]]),
              new Uint8Array(sealed), [recipient]] });
          });
        });
      });
  }

  function b64url(text) {
    var normal = text.replace(/-/g, "+").replace(/_/g, "/");
    while (normal.length % 4) { normal += "="; }
    var raw = atob(normal);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }

  /* The QR text for the slot of `seconds`: it works offline. */
  function makeToken(enrolmentId, device, gates, seconds, nonce) {
    var claims = encode(new Map([[1, uuidBytes(enrolmentId)], [2, slotOf(seconds)],
      [3, nonce || global.crypto.getRandomValues(new Uint8Array(16))]]));
    return sign1(claims, device).then(function (signed) { return encryptTo(signed, gates); })
      .then(function (encrypted) { return PREFIX + base45(encrypted); });
  }

  global.borderpassEchannelCore = {
    SLOT_SECONDS: SLOT_SECONDS, encode: encode, base45: base45, makeDeviceKey: makeDeviceKey,
    gatesKey: gatesKey, kidOf: kidOf, toPem: toPem, slotOf: slotOf, makeToken: makeToken
  };
})(self);
