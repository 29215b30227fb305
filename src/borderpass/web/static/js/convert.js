/* Converting another jurisdiction's code, in the browser.
 *
 * - A link from the site that issued the code carries its text in the address's
 *   fragment (#code=...), which browsers never send to a server: the text is put in the
 *   form and taken out of the address, and the holder presses Convert.
 * - The camera (getUserMedia) reads the code with the QR decoder the site serves from
 *   /static/vendor when it is installed, and sends its text with the form.
 * Without JavaScript the page still works: the photo and text forms post to the server.
 */
(function () {
  "use strict";

  var root = document.getElementById("converter");
  if (!root) { return; }
  var prefix = root.dataset.prefix || "BPHC1:";
  var textarea = document.getElementById("f-code_text");
  var form = document.getElementById("text-form");

  function say(name) { return root.dataset["t" + name] || ""; }

  // --- a code brought over by a link ---------------------------------------------------

  var match = /(?:^#|&)code=([^&]*)/.exec(window.location.hash);
  if (match) {
    var text = "";
    try { text = decodeURIComponent(match[1]); } catch (e) { text = ""; }
    history.replaceState(null, "", window.location.pathname + window.location.search);
    if (text.indexOf(prefix) === 0 && text.length <= 4096) {
      textarea.value = text;
      var brought = document.getElementById("brought-over");
      brought.textContent = say("Filled");
      brought.hidden = false;
      document.getElementById("convert-text").focus();
    }
  }

  // --- the camera ----------------------------------------------------------------------

  var line = document.getElementById("camera-status");
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
      if (code && code.data && code.data.indexOf(prefix) === 0) {
        stopCamera();
        line.textContent = "";
        textarea.value = code.data;
        form.submit();
        return;
      }
    }
    requestAnimationFrame(scanFrames);
  }

  document.getElementById("camera-start").addEventListener("click", function () {
    if (!window.jsQR || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      line.textContent = say("NoCamera");
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        video.hidden = false;
        line.textContent = say("Looking");
        return video.play();
      }).then(scanFrames).catch(function () {
        stopCamera();
        line.textContent = say("NoCamera");
      });
  });

  if (root.dataset.decoder) {
    var script = document.createElement("script");
    script.src = root.dataset.decoder;
    document.head.appendChild(script);
  }
  root.hidden = false;
})();
