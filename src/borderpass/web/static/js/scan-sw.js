/* The scanner's service worker: keeps the scanner page, its assets and the last lists
 * so that a border officer can open the page and verify codes without a network.
 * Network first: while online the officer always gets the current page and lists. */
"use strict";

var CACHE = "borderpass-scanner-v1";
var KEEP = ["/officer/scan", "/static/css/site.css", "/static/js/scan.js",
  "/static/vendor/jsQR.js", "/api/trust-list/export"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    // One missing asset (the camera decoder is optional) must not stop the others.
    return Promise.all(KEEP.map(function (path) {
      return fetch(path, { credentials: "same-origin" }).then(function (response) {
        if (response.ok && !response.redirected) { return cache.put(path, response); }
      }).catch(function () {});
    }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name !== CACHE; })
      .map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin ||
      KEEP.indexOf(url.pathname) < 0) {
    return;
  }
  event.respondWith(fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(url.pathname, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(url.pathname).then(function (kept) {
      return kept || Response.error();
    });
  }));
});
