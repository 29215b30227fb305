/* The officer's decision page at a control point, in the browser.
 *
 * The camera (getUserMedia) reads the health code with the QR decoder the site serves
 * from /static/vendor when it is installed, and puts its text in the form; the officer
 * then checks the travel document and presses Decide.
 * Without JavaScript the page still works: a photo of the code or its pasted text goes
 * with the form.
 */
(function () {
  "use strict";

  var root = document.getElementById("code-scanner");
  if (!root) { return; }
  var prefix = root.dataset.prefix || "BPHC1:";
  var textarea = document.getElementById("f-code_text");
  var line = document.getElementById("camera-status");
  var video = document.getElementById("camera-video");
  var stream = null;

  function say(name) { return root.dataset["t" + name] || ""; }

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
        textarea.value = code.data;
        line.textContent = say("Read");
        document.getElementById("f-document_number").focus();
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
