/* The check-in app's service worker: keeps the app's page, its scripts and the last
 * exposure list so that the app opens and matches without a network. Network first:
 * online, the person always gets the current page and list. */
"use strict";

var CACHE = "borderpass-checkin-v1";
var KEEP = ["/app/checkin", "/app/checkin/manifest.webmanifest", "/static/css/site.css",
  "/static/js/checkin-core.js", "/static/js/checkin.js", "/static/js/camera.js",
  "/static/vendor/jsQR.js", "/static/img/checkin-192.png", "/static/img/checkin-512.png",
  "/api/checkin/exposure-list"];

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
    return Promise.all(names.filter(function (name) {
      return name.indexOf("borderpass-checkin-") === 0 && name !== CACHE;
    }).map(function (name) { return caches.delete(name); }));
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
