// The testing-order form's venue picker. Without JavaScript, "Find" sends the form back
// and the page lists the venues found; with it, the venues are fetched from the same
// search and listed in place, and what was typed and ticked stays as it is.
(function () {
  "use strict";
  var picker = document.getElementById("venue-picker");
  if (!picker || !window.fetch) {
    return;
  }
  var list = document.getElementById("venue-list");
  var query = document.getElementById("f-venue_q");
  var find = document.getElementById("venue-find");
  var status = document.getElementById("venue-status");
  var form = picker.closest("form");
  var searching = null;

  function text(tag, content, className) {
    var element = document.createElement(tag);
    element.textContent = content;
    if (className) {
      element.className = className;
    }
    return element;
  }

  function item(venue) {
    var row = document.createElement("li");
    row.className = "choice";
    var box = document.createElement("input");
    box.type = "checkbox";
    box.name = "venue";
    box.value = venue.venue_id;
    box.id = "v-" + venue.venue_id;
    var label = document.createElement("label");
    label.htmlFor = box.id;
    var english = text("span", venue.name_en);
    english.lang = "en";
    var chinese = text("span", venue.name_zh);
    chinese.lang = "zh-Hant-HK";
    label.append(english, " ", chinese, " ", text("span", "(" + venue.venue_id + ")", "nowrap"),
                 document.createElement("br"), text("span", venue.address, "hint"));
    row.append(box, label);
    return row;
  }

  function show(venues) {
    var kept = {};
    list.querySelectorAll("input[name=venue]").forEach(function (box) {
      if (box.checked) {
        kept[box.value] = true;
      } else {
        box.closest("li").remove();  // an earlier search's venue, not chosen
      }
    });
    var added = 0;
    venues.forEach(function (venue) {
      if (!kept[venue.venue_id]) {
        list.appendChild(item(venue));
        added += 1;
      }
    });
    status.textContent = added ? "" : picker.getAttribute("data-none");
  }

  function search(event) {
    event.preventDefault();
    var words = query.value.trim();
    if (!words) {
      query.focus();
      return;
    }
    if (searching) {
      searching.abort();
    }
    searching = new AbortController();
    var url = picker.getAttribute("data-search") + "?q=" + encodeURIComponent(words);
    fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"},
                signal: searching.signal})
      .then(function (answer) {
        if (!answer.ok) {
          throw new Error(String(answer.status));
        }
        return answer.json();
      })
      .then(show)
      .catch(function (error) {
        if (error.name !== "AbortError") {
          // Let the server do it as it does without JavaScript.
          find.removeEventListener("click", search);
          form.requestSubmit(find);
        }
      });
  }

  find.addEventListener("click", search);
  query.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      search(event);
    }
  });
  // Enter in any other field records the order, as the last button says, not "Find".
  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target !== query && event.target.tagName === "INPUT") {
      event.preventDefault();
      form.requestSubmit(document.getElementById("order-record"));
    }
  });
})();
