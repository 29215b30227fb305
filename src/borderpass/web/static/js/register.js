// The registration form without surprises: the time left, and document and phone numbers
// checked as they are typed (by the same validators the server uses on submit). The form
// works without this script; it only tells sooner.
(function () {
  "use strict";
  var timer = document.querySelector("[data-expires]");
  if (timer) {
    var template = timer.getAttribute("data-template");
    var one = timer.getAttribute("data-template-one") || template;
    var tick = function () {
      // Read each time: more time may have been given since (see below).
      var expires = Date.parse(timer.getAttribute("data-expires"));
      var left = Math.max(0, Math.ceil((expires - Date.now()) / 60000));
      timer.textContent = (left === 1 ? one : template).replace("{minutes}", String(left));
    };
    tick();
    window.setInterval(tick, 15000);
  }
  // More time (WCAG 2.2.1): warned in a status line at 5 minutes and at 1 minute left;
  // the button asks the server for the full time again, from now, without leaving the
  // page (what was typed stays), and the answer is said in the same status line.
  var extend = document.querySelector("form[data-extend]");
  var said = document.getElementById("extend-status");
  if (extend && said) {
    var deadline = Date.parse(extend.getAttribute("data-deadline"));
    var warned = {};
    var warn = function () {
      var left = Math.ceil((deadline - Date.now()) / 60000);
      [5, 1].forEach(function (mark) {
        var key = mark + "@" + deadline;
        if (left > 0 && left <= mark && !warned[key]) {
          warned[key] = true;
          said.textContent = left === 1 ? said.getAttribute("data-warn-one")
            : said.getAttribute("data-warn").replace("{minutes}", String(left));
        }
      });
    };
    warn();
    window.setInterval(warn, 5000);
    var shown = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
      timeZone: "Asia/Hong_Kong", dateStyle: "medium", timeStyle: "medium" });
    extend.addEventListener("submit", function (event) {
      event.preventDefault();
      fetch(extend.action, { method: "POST", body: new FormData(extend),
        credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          return response.json().then(function (body) { return { ok: response.ok, body: body }; });
        })
        .then(function (answer) {
          if (answer.body.expired) {
            window.location.assign(answer.body.next);
            return;
          }
          if (answer.ok) {
            deadline = Date.parse(answer.body.expires_at);
            extend.setAttribute("data-deadline", answer.body.expires_at);
            if (timer) {
              timer.setAttribute("data-expires", answer.body.expires_at);
              tick();
            }
            document.querySelectorAll("[data-finish-by]").forEach(function (node) {
              node.textContent = shown.format(new Date(deadline));
            });
          }
          said.textContent = answer.body.message;
        })
        .catch(function () { extend.submit(); });
    });
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
