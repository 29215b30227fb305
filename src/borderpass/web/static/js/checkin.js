/* The check-in app (/app/checkin).
 *
 * - Check-ins are kept in this browser only (IndexedDB), and deleted 31 days after they
 *   end. One is active at a time: checking in elsewhere ends the last one, the person
 *   can leave by hand, and a visit ends by itself after the venue type's usual stay.
 * - The exposure list is fetched, its signature checked and matched here
 *   (checkin-core.js); what matched is shown and never sent.
 * - "Upload my records" sends the signed bundle of the last 31 days through the page's
 *   form, signed in and with the person's consent; nothing else leaves the phone.
 * - A service worker keeps the app so that it opens offline.
 */
(function () {
  "use strict";

  var root = document.getElementById("checkin-app");
  if (!root) { return; }
  var core = window.borderpassCheckinCore;
  var data = JSON.parse(document.getElementById("checkin-data").textContent);
  var texts = data.texts;
  var lang = document.documentElement.lang || "en";
  var DB_NAME = "borderpass-checkin";

  function say(key, params) {
    var text = texts[key] || "";
    Object.keys(params || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(params[name]);
    });
    return text;
  }

  function now() { return Math.floor(Date.now() / 1000); }

  function hkTime(seconds) {
    return new Intl.DateTimeFormat(lang, { timeZone: "Asia/Hong_Kong", dateStyle: "medium",
      timeStyle: "short" }).format(new Date(seconds * 1000));
  }

  /* A Hong Kong day as YYYY-MM-DD, as the phone library writes it in its warnings. */
  function hkDay(seconds) {
    return new Date((seconds + 8 * 3600) * 1000).toISOString().slice(0, 10);
  }

  function placeName(record) {
    if (data.locale === "en") { return record.name_en; }
    if (data.locale === "zh_Hans") { return record.name_zh_hans || record.name_zh; }
    return record.name_zh;
  }

  // --- the store ------------------------------------------------------------------------

  var opened = null;

  function database() {
    if (opened) { return opened; }
    opened = new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        var db = request.result;
        var visits = db.createObjectStore("checkins", { keyPath: "id", autoIncrement: true });
        visits.createIndex("start", "start");
        db.createObjectStore("meta", { keyPath: "key" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
    return opened;
  }

  function transact(stores, mode, work) {
    return database().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(stores, mode);
        var result;
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
        result = work(tx);
      });
    });
  }

  function request(req) {
    return new Promise(function (resolve, reject) {
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function getMeta(key) {
    return database().then(function (db) {
      return request(db.transaction("meta").objectStore("meta").get(key));
    }).then(function (row) { return row ? row.value : undefined; });
  }

  function setMeta(key, value) {
    return transact(["meta"], "readwrite", function (tx) {
      tx.objectStore("meta").put({ key: key, value: value });
    });
  }

  function rawRecords() {
    return database().then(function (db) {
      return request(db.transaction("checkins").objectStore("checkins").getAll());
    });
  }

  /* A record as it stands at `at`: ended, or active until it leaves by itself. */
  function view(record, at) {
    var open = record.end === null;
    var end = open ? Math.min(record.leaves_at, Math.max(at, record.start)) : record.end;
    return Object.assign({}, record, { effective_end: end,
      active: open && at < record.leaves_at });
  }

  function records(at) {
    return rawRecords().then(function (rows) {
      return rows.map(function (row) { return view(row, at); })
        .sort(function (a, b) { return a.start - b.start || a.id - b.id; });
    });
  }

  /* End the open check-in: now, or when it left by itself if that came first. */
  function closeOpen(tx, at) {
    var store = tx.objectStore("checkins");
    store.getAll().onsuccess = function (event) {
      event.target.result.forEach(function (row) {
        if (row.end === null) {
          row.end = Math.min(row.leaves_at, at);
          store.put(row);
        }
      });
    };
  }

  /* Delete what ended more than 31 days ago; the app does it each time it opens. */
  function purge(at) {
    return transact(["checkins"], "readwrite", function (tx) {
      var store = tx.objectStore("checkins");
      store.getAll().onsuccess = function (event) {
        event.target.result.forEach(function (row) {
          var end = row.end === null ? row.leaves_at : row.end;
          if (end < at - core.KEEP) { store.delete(row.id); }
        });
      };
    });
  }

  function usualStay(type) {
    var minutes = data.usual_stay_minutes[type] || data.usual_stay_minutes.other;
    return minutes * 60;
  }

  function checkIn(venue) {
    var at = now();
    return purge(at).then(function () {
      return transact(["checkins"], "readwrite", function (tx) {
        closeOpen(tx, at);
        tx.objectStore("checkins").add({
          format: venue.format, venue_id: venue.venue_id, name_zh: venue.name_zh,
          name_zh_hans: venue.name_zh_hans, name_en: venue.name_en, type: venue.type,
          secret: core.hex(venue.secret), start: at, end: null,
          leaves_at: at + usualStay(venue.type)
        });
      });
    }).then(function () {
      message(say("checked_in", { place: placeName(venue) }));
      return refresh();
    });
  }

  function leave() {
    var at = now();
    return records(at).then(function (all) {
      var current = all.filter(function (r) { return r.active; }).pop();
      return transact(["checkins"], "readwrite", function (tx) { closeOpen(tx, at); })
        .then(function () {
          if (current) { message(say("left", { place: placeName(current) })); }
          return refresh();
        });
    });
  }

  // --- the page ---------------------------------------------------------------------------

  function message(text) { document.getElementById("checkin-message").textContent = text; }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function showCurrent(all, at) {
    var current = all.filter(function (r) { return r.active; }).pop();
    var textNode = document.getElementById("current-text");
    var leaves = document.getElementById("current-leaves");
    var button = document.getElementById("leave");
    if (!current) {
      textNode.textContent = say("not_checked_in");
      leaves.textContent = "";
      button.hidden = true;
      root.dataset.active = "";
      return;
    }
    textNode.textContent = placeName(current) + " · " + say("here_since", { time: hkTime(current.start) });
    leaves.textContent = say("leaves_at", { time: hkTime(current.leaves_at) });
    button.hidden = false;
    root.dataset.active = current.venue_id;
  }

  function showVisits(all, at) {
    var list = document.getElementById("visit-list");
    list.textContent = "";
    var recent = all.slice().reverse();
    if (!recent.length) { list.appendChild(element("li", "empty", say("no_visits"))); }
    recent.forEach(function (record) {
      var item = element("li", record.active ? "visit active" : "visit");
      item.dataset.venue = record.venue_id;
      item.appendChild(element("strong", null, placeName(record)));
      item.appendChild(element("span", "when", " " + hkTime(record.start) + " – " +
        (record.active ? say("now") : hkTime(record.effective_end))));
      list.appendChild(item);
    });
    var summary = document.getElementById("upload-summary");
    if (summary) {
      var sendable = core.uploadRecords(asVisits(all, at), at);
      summary.textContent = sendable.length ? say("send_count", { count: sendable.length,
        from: hkTime(all[0].start), to: hkTime(all[all.length - 1].effective_end) })
        : say("send_none");
    }
  }

  function asVisits(all) {
    return all.map(function (r) {
      return { ref: r.id, secret: core.fromHex(r.secret), start: r.start,
        end: r.effective_end, format: r.format, venue_id: r.venue_id };
    });
  }

  function showWarnings(found, byId) {
    var section = document.getElementById("warnings");
    var list = document.getElementById("warning-list");
    list.textContent = "";
    found.forEach(function (warning) {
      var record = byId[warning.ref];
      var item = element("li", "card warning " + warning.kind, say(warning.kind, {
        place: placeName(record), day: hkDay(warning.overlap_start),
        test_by: hkDay(warning.test_by), watch_until: hkDay(warning.watch_until) }));
      item.setAttribute("role", "alert");
      list.appendChild(item);
    });
    section.hidden = !found.length;
  }

  /* Match the kept exposure list against this phone's visits, here. */
  function match(at) {
    return Promise.all([getMeta("exposure_list"), records(at)]).then(function (got) {
      var kept = got[0], all = got[1];
      if (!kept) { return []; }
      var generated;
      return core.parseList(kept.text, data.trust).then(function (published) {
        generated = published.generated_at;
        return core.warnings(asVisits(all, at), published, at);
      }).then(function (found) {
        var byId = {};
        all.forEach(function (r) { byId[r.id] = r; });
        showWarnings(found, byId);
        // The list's own time: offline, the kept list may be older than this moment.
        document.getElementById("list-status").textContent = say(
          found.length ? "list_checked_warned" : "list_checked", { time: hkTime(generated) });
        return found;
      });
    });
  }

  /* Fetch the list (only it: the request names nothing of this phone), keep it once its
   * signature is checked, then match. Offline, the kept list is matched. */
  function checkList() {
    var at = now();
    return fetch("/api/checkin/exposure-list", { credentials: "omit", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw core.refusal("unavailable", "HTTP " + response.status); }
        return response.text();
      }).then(function (text) {
        return core.parseList(text, data.trust).then(function () {
          return setMeta("exposure_list", { text: text, checked_at: at });
        });
      }).catch(function (error) {
        document.getElementById("list-status").textContent = navigator.onLine
          ? say("list_unavailable", { reason: error.detail || error.message }) : say("offline");
      }).then(function () { return match(at); });
  }

  function refresh() {
    var at = now();
    return records(at).then(function (all) {
      showCurrent(all, at);
      showVisits(all, at);
      return match(at);
    });
  }

  // --- checking in -------------------------------------------------------------------------

  function fromCode(text) {
    return core.parseVenueCode(text, data.trust).then(checkIn, function (error) {
      message(say("bad_code", { reason: error.detail || error.message }));
      throw error;
    });
  }

  var camera = null;
  document.getElementById("camera-start").addEventListener("click", function () {
    var status = document.getElementById("camera-status");
    status.textContent = say("looking");
    if (camera) { camera.stop(); }
    var busy = false;
    camera = window.borderpassCamera.start(document.getElementById("camera-video"), function (text) {
      if (busy || (text.indexOf("BPV1:") !== 0 && text.indexOf("HKEN:") !== 0)) { return false; }
      busy = true;
      status.textContent = "";
      fromCode(text).catch(function () {});
      return true;
    }, function () { status.textContent = say("no_camera"); });
  });

  document.getElementById("taxi-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var field = document.getElementById("f-plate");
    var taxi;
    try {
      taxi = core.taxiVenue(field.value);
    } catch (error) {
      message(say("bad_plate", { plate: error.detail || field.value }));
      return;
    }
    taxi.then(checkIn).then(function () { field.value = ""; });
  });

  document.getElementById("code-form").addEventListener("submit", function (event) {
    event.preventDefault();
    fromCode(document.getElementById("f-code").value).catch(function () {});
  });

  document.getElementById("leave").addEventListener("click", function () { leave(); });

  // --- uploading, with consent -------------------------------------------------------------

  /* The phone's Ed25519 device key: made once, its private half never leaves WebCrypto. */
  function deviceKey() {
    return getMeta("device_key").then(function (kept) {
      if (kept) { return kept; }
      return crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"])
        .then(function (pair) {
          return crypto.subtle.exportKey("raw", pair.publicKey).then(function (raw) {
            var made = { pair: pair, public_raw: new Uint8Array(raw) };
            return setMeta("device_key", made).then(function () { return made; });
          });
        });
    });
  }

  function bundle() {
    var at = now();
    return Promise.all([records(at), deviceKey(), getMeta("in_use_since")]).then(function (got) {
      return core.uploadBundle(asVisits(got[0]), got[1].pair, got[1].public_raw, got[2], at);
    });
  }

  var form = document.getElementById("upload-form");
  if (form) {
    form.addEventListener("submit", function (event) {
      var field = document.getElementById("f-bundle");
      if (field.value) { return; }
      event.preventDefault();
      bundle().then(function (made) {
        field.value = JSON.stringify(made);
        form.submit();
      });
    });
  }

  // --- start -------------------------------------------------------------------------------

  window.borderpassCamera.loadDecoder(root.dataset.decoder);
  root.hidden = false;
  getMeta("in_use_since").then(function (since) {
    return since === undefined ? setMeta("in_use_since", now()) : null;
  }).then(function () { return purge(now()); }).then(refresh).then(checkList);
  // A visit leaves by itself: the page shows it within a minute; the list is re-read
  // every five.
  window.setInterval(refresh, 60 * 1000);
  window.setInterval(checkList, 5 * 60 * 1000);
  window.addEventListener("online", checkList);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/app/checkin-worker.js", { scope: "/app/" })
      .catch(function () { /* the app still works online */ });
  }
  window.borderpassCheckin = { checkList: checkList, refresh: refresh, records: records,
    bundle: bundle, checkIn: fromCode };
})();
