/* The gates' demonstration page: gate 1 reads the app's QR code from the camera and posts
 * it; gate 2 takes a photo from the camera and posts it. Without a camera, the text and
 * the file chooser do the same. */
(function () {
  "use strict";

  var root = document.getElementById("gates");
  if (!root) { return; }
  window.borderpassCamera.loadDecoder(root.dataset.decoder);

  var scan = document.getElementById("gate-camera");
  if (scan) {
    scan.addEventListener("click", function () {
      var status = document.getElementById("gate-status");
      window.borderpassCamera.start(document.getElementById("gate-video"), function (text) {
        if (text.indexOf("HKEC1:") !== 0) { return false; }
        document.getElementById("f-token").value = text;
        document.getElementById("gate1-form").submit();
        return true;
      }, function () { status.textContent = "—"; });
    });
  }

  var faceButton = document.getElementById("face-camera");
  if (faceButton) {
    var video = document.getElementById("face-video");
    var take = document.getElementById("face-take");
    var camera = null;
    faceButton.addEventListener("click", function () {
      camera = window.borderpassCamera.start(video, null, function () {
        take.hidden = true;
      }, "user");
      take.hidden = false;
    });
    take.addEventListener("click", function () {
      if (!video.videoWidth) { return; }
      window.borderpassCamera.still(video).then(function (blob) {
        var chosen = new DataTransfer();
        chosen.items.add(new File([blob], "face.jpg", { type: "image/jpeg" }));
        document.getElementById("f-live_photo").files = chosen.files;
        if (camera) { camera.stop(); }
        document.getElementById("gate2-form").submit();
      });
    });
  }
})();
