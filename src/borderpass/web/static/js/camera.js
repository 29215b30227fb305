/* Reading QR codes from the phone's camera, for the check-in app and the e-Channel
 * pages: getUserMedia, then each video frame through the QR decoder the site serves from
 * /static/vendor (jsQR) until a code is accepted. The officer's scanner (scan.js) has
 * its own copy of this loop, with its offline verification around it. */
(function (global) {
  "use strict";

  function loadDecoder(source) {
    if (!source || global.jsQR) { return; }
    var script = document.createElement("script");
    script.src = source;
    document.head.appendChild(script);
  }

  /* Start the camera into `video`; call accept(text) for each code read until it returns
   * true (with no accept, the camera only shows, for a photo). Returns {stop}. fail() is
   * called when there is no camera, or no decoder when codes are to be read. */
  function start(video, accept, fail, facing) {
    var stream = null;
    var stopped = false;
    function stop() {
      stopped = true;
      if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
      stream = null;
      video.hidden = true;
    }
    function frame() {
      if (stopped || !stream || !accept) { return; }
      if (video.readyState >= 2 && video.videoWidth) {
        var canvas = document.createElement("canvas");
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        var context = canvas.getContext("2d");
        context.drawImage(video, 0, 0);
        var pixels = context.getImageData(0, 0, canvas.width, canvas.height);
        var code = global.jsQR(pixels.data, pixels.width, pixels.height,
          { inversionAttempts: "dontInvert" });
        if (code && code.data && accept(code.data)) { stop(); return; }
      }
      requestAnimationFrame(frame);
    }
    if ((accept && !global.jsQR) || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      fail();
      return { stop: stop };
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: facing || "environment" }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        video.hidden = false;
        return video.play();
      }).then(frame).catch(function () { stop(); fail(); });
    return { stop: stop };
  }

  /* Take one still photo from a running camera as a JPEG Blob. */
  function still(video) {
    var canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", 0.92); });
  }

  global.borderpassCamera = { loadDecoder: loadDecoder, start: start, still: still };
})(self);
