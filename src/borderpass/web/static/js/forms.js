// Every form of the site: a message the server put under a field ("This field is
// required.") goes away as soon as the field is changed, so that it never stays under a
// field that has since been filled in. The server checks the form again on submit.
(function () {
  "use strict";
  function clear(field) {
    var holder = field.closest(".field");
    var name = field.getAttribute("name");
    var message = name ? document.getElementById("e-" + name) : null;
    if (message) {
      message.remove();
    }
    field.removeAttribute("aria-invalid");
    var described = (field.getAttribute("aria-describedby") || "").split(/\s+/)
      .filter(function (id) { return id && id !== "e-" + name; });
    if (described.length) {
      field.setAttribute("aria-describedby", described.join(" "));
    } else {
      field.removeAttribute("aria-describedby");
    }
    if (holder && !holder.querySelector(".error")) {
      holder.classList.remove("invalid");
    }
  }
  // A page that answers a form with errors opens on their summary, so that the focus
  // does not start at the top of the page; each link in it takes the focus to its field
  // (the first choice of a group) rather than only scrolling to it.
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.querySelectorAll("a[href^='#f-']").forEach(function (link) {
      var name = link.getAttribute("href").slice(3);
      var target = document.getElementById("f-" + name);
      if (target && !target.matches("input, select, textarea, button")) {
        target = target.querySelector("input, select, textarea, button");
      }
      if (!target) {
        target = document.querySelector("main [name='" + name.replace(/'/g, "") + "']");
      }
      if (!target) {
        return;
      }
      // "This field is required." says which field once it is named: the link starts
      // with the field's label (or its group's legend).
      var named = document.querySelector("label[for='" + target.id + "']");
      var group = target.closest("fieldset");
      if (target.type === "radio" && group) {
        named = group.querySelector("legend");
      }
      if (named) {
        var words = named.cloneNode(true);
        words.querySelectorAll(".optional").forEach(function (part) { part.remove(); });
        var label = words.textContent.trim();
        if (label && link.textContent.indexOf(label) !== 0) {
          var colon = /^zh/.test(document.documentElement.lang) ? "：" : ": ";
          link.textContent = label + colon + link.textContent;
        }
      }
      link.addEventListener("click", function (event) {
        event.preventDefault();
        var label = document.querySelector("label[for='" + target.id + "']");
        (target.closest("fieldset") || label || target).scrollIntoView();
        target.focus({ preventScroll: true });
      });
    });
    summary.focus();
  }
  document.querySelectorAll("form").forEach(function (form) {
    var handler = function (event) {
      var field = event.target;
      if (field && field.name && document.getElementById("e-" + field.name)) {
        clear(field);
      }
    };
    form.addEventListener("input", handler);
    form.addEventListener("change", handler);
  });
})();
