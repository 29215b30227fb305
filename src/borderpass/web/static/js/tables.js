// Every page of the site: a table wider than the screen scrolls sideways inside its
// wrapper (.table-wrap). A keyboard user can only scroll what can take the focus, so a
// wrapper that scrolls becomes a region with a name (the table's caption, else the
// heading before it) and a place in the tab order (WCAG 2.1.1); a wrapper that fits
// gives its tab stop back. Checked again whenever the window changes size.
(function () {
  "use strict";
  var counter = 0;
  function nameOf(wrap) {
    var caption = wrap.querySelector("caption");
    if (caption && caption.textContent.trim()) {
      if (!caption.id) {
        counter += 1;
        caption.id = "table-caption-" + counter;
      }
      return { labelledby: caption.id };
    }
    var node = wrap;
    while (node) {
      var previous = node.previousElementSibling;
      while (previous) {
        if (/^H[1-6]$/.test(previous.tagName)) {
          return { label: previous.textContent.trim() };
        }
        var inner = previous.querySelectorAll("h1, h2, h3, h4, h5, h6");
        if (inner.length) {
          return { label: inner[inner.length - 1].textContent.trim() };
        }
        previous = previous.previousElementSibling;
      }
      node = node.parentElement;
    }
    return { label: document.title };
  }
  function update() {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      if (scrolls && !wrap.hasAttribute("tabindex")) {
        var name = nameOf(wrap);
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        if (name.labelledby) {
          wrap.setAttribute("aria-labelledby", name.labelledby);
        } else {
          wrap.setAttribute("aria-label", name.label);
        }
      } else if (!scrolls && wrap.hasAttribute("tabindex") && document.activeElement !== wrap) {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-labelledby");
        wrap.removeAttribute("aria-label");
      }
    });
  }
  var pending = null;
  window.addEventListener("resize", function () {
    if (pending === null) {
      pending = window.requestAnimationFrame(function () {
        pending = null;
        update();
      });
    }
  });
  update();
})();
