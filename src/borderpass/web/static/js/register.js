// The registration form without surprises: the time left, and document and phone numbers
// checked as they are typed (by the same validators the server uses on submit). The form
// works without this script; it only tells sooner.
(function () {
  "use strict";
  var timer = document.querySelector("[data-expires]");
  if (timer) {
    var expires = Date.parse(timer.getAttribute("data-expires"));
    var template = timer.getAttribute("data-template");
    var tick = function () {
      var left = Math.max(0, Math.ceil((expires - Date.now()) / 60000));
      timer.textContent = template.replace("{minutes}", String(left));
    };
    tick();
    window.setInterval(tick, 15000);
  }
  var kind = document.getElementById("f-document_kind");
  var pending = {};
  function check(input) {
    var name = input.name;
    var out = document.getElementById("c-" + name);
    if (!out) { return; }
    var value = input.value.trim();
    if (!value) { out.textContent = ""; out.className = "check"; return; }
    var url;
    if (input.getAttribute("data-check") === "phone") {
      url = "/api/phones/check?number=" + encodeURIComponent(value);
    } else {
      var docKind = input.getAttribute("data-check") === "hrp" ? "hrp" : (kind ? kind.value : "hkid");
      url = "/api/documents/check?kind=" + encodeURIComponent(docKind) +
        "&number=" + encodeURIComponent(value);
    }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        if (input.value.trim() !== value) { return; }
        out.textContent = body.message;
        out.className = body.valid ? "check ok" : "check bad";
      })
      .catch(function () { out.textContent = ""; });
  }
  var inputs = document.querySelectorAll("[data-check]");
  Array.prototype.forEach.call(inputs, function (input) {
    input.addEventListener("input", function () {
      window.clearTimeout(pending[input.name]);
      pending[input.name] = window.setTimeout(function () { check(input); }, 350);
    });
    input.addEventListener("blur", function () { check(input); });
  });
  if (kind) {
    kind.addEventListener("change", function () {
      var number = document.getElementById("f-document_number");
      if (number) { check(number); }
    });
  }
})();
