/* The e-Channel app (/app/echannel).
 *
 * Enrolling: the card's chip file, a photo of the face from the camera (or a chosen
 * photo), and a device key made here with WebCrypto as ECDSA P-256 whose private half
 * cannot be exported; it is kept in IndexedDB and only its public key is sent.
 * Enrolled: the gate-1 QR is made on the phone for each 30-second slot
 * (echannel-core.js) and drawn with the QR encoder the site serves from /static/vendor.
 */
(function () {
  "use strict";

  var root = document.getElementById("echannel-app");
  if (!root) { return; }
  var core = window.borderpassEchannelCore;
  var data = JSON.parse(document.getElementById("echannel-data").textContent);
  var DB_NAME = "borderpass-echannel";

  function say(key, params) {
    var text = data.texts[key] || "";
    Object.keys(params || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(params[name]);
    });
    return text;
  }

  function hex(bytes) {
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // --- the device keys, in IndexedDB ------------------------------------------------------

  function database() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore("keys", { keyPath: "kid" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function keep(device) {
    return database().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction("keys", "readwrite");
        tx.objectStore("keys").put({ kid: hex(device.kid), pair: device.pair, spki: device.spki,
          made_at: Date.now() });
        tx.oncomplete = function () { resolve(device); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }

  function allKeys() {
    return database().then(function (db) {
      return new Promise(function (resolve, reject) {
        var request = db.transaction("keys").objectStore("keys").getAll();
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    });
  }

  // --- enrolling -----------------------------------------------------------------------------

  var form = document.getElementById("enrol-form");
  var photoInput = document.getElementById("f-live_photo");
  var video = document.getElementById("face-video");
  var take = document.getElementById("face-take");
  var status = document.getElementById("face-status");
  var camera = null;

  document.getElementById("face-camera").addEventListener("click", function () {
    status.textContent = say("looking");
    if (camera) { camera.stop(); }
    // No QR is looked for: the camera only shows the face until the photo is taken.
    camera = window.borderpassCamera.start(video, null, function () {
      status.textContent = say("no_camera");
      take.hidden = true;
    }, "user");
    take.hidden = false;
  });

  take.addEventListener("click", function () {
    if (!video.videoWidth) { return; }
    window.borderpassCamera.still(video).then(function (blob) {
      var file = new File([blob], "face.jpg", { type: "image/jpeg" });
      var chosen = new DataTransfer();
      chosen.items.add(file);
      photoInput.files = chosen.files;
      var preview = document.getElementById("face-preview");
      preview.src = URL.createObjectURL(blob);
      preview.hidden = false;
      if (camera) { camera.stop(); }
      take.hidden = true;
      status.textContent = "";
    });
  });

  form.addEventListener("submit", function (event) {
    var field = document.getElementById("f-device_public_key");
    if (field.value) { return; }
    event.preventDefault();
    core.makeDeviceKey().then(keep).then(function (device) {
      field.value = device.pem;
      form.submit();
    }, function () { form.submit(); });  // the server says what is missing
  });

  // --- the gate-1 QR -------------------------------------------------------------------------

  var enrolment = root.dataset.enrolment;
  var shown = null;

  function loadEncoder() {
    return new Promise(function (resolve) {
      if (window.qrcode || !root.dataset.encoder) { resolve(); return; }
      var script = document.createElement("script");
      script.src = root.dataset.encoder;
      script.onload = resolve;
      script.onerror = resolve;
      document.head.appendChild(script);
    });
  }

  function draw(text) {
    var box = document.getElementById("gate-qr");
    box.dataset.token = text;
    if (!window.qrcode) { box.textContent = text; return; }
    var code = window.qrcode(0, "L");
    code.addData(text, "Alphanumeric");
    code.make();
    box.innerHTML = code.createSvgTag({ cellSize: 4, margin: 4, scalable: true });
  }

  /* The key this enrolment registered, found by its key id among those kept here. */
  function enrolmentKey() {
    return allKeys().then(function (keys) {
      return keys.filter(function (k) { return k.kid === root.dataset.deviceKid; })[0] || null;
    });
  }

  function startQr() {
    if (!enrolment) { return; }
    Promise.all([enrolmentKey(), core.gatesKey(data.gates_key), loadEncoder()]).then(function (got) {
      var stored = got[0], gates = got[1];
      if (!stored) { document.getElementById("qr-problem").hidden = false; return; }
      return core.kidOf(stored.spki).then(function (kid) {
        var device = { pair: stored.pair, kid: kid };
        function tick() {
          var now = Date.now() / 1000;
          var slot = core.slotOf(now);
          var left = Math.ceil((slot + 1) * core.SLOT_SECONDS - now);
          document.getElementById("qr-countdown").textContent = say("renews", { seconds: left });
          if (shown === slot) { return; }
          shown = slot;
          core.makeToken(enrolment, device, gates, now).then(function (text) {
            if (shown === slot) {
              draw(text);
              document.getElementById("gate-qr").dataset.slot = String(slot);
            }
          });
        }
        tick();
        window.setInterval(tick, 500);
      });
    });
  }

  startQr();
  window.borderpassEchannel = { keys: allKeys };
})();
