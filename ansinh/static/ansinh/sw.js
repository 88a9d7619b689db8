// Service worker (served at /sw.js): keeps the field capture screen and its scripts so that
// they open with no connection. Pages: network first, the kept copy when offline. Static
// files: the kept copy first. Nothing else is touched (every other request goes out as is).
"use strict";
var CACHE = "ansinh-field-v1";
var SHELL = [
  "/field/",
  "/static/ansinh/app.css",
  "/static/ansinh/app.js",
  "/static/ansinh/offline.js",
  "/static/ansinh/field.js",
  "/static/vendor/htmx/htmx.min.js",
  "/static/vendor/dexie/dexie.min.js",
  "/static/vendor/html5-qrcode/html5-qrcode.min.js",
  "/static/ansinh/icons/icon-192.png",
  "/manifest.webmanifest"
];

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) { return cache.addAll(SHELL); }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("fetch", function (event) {
  var req = event.request;
  if (req.method !== "GET") return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin || SHELL.indexOf(url.pathname) < 0) return;
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.match(url.pathname).then(function (hit) { return hit || fetch(req); }));
    return;
  }
  event.respondWith(
    fetch(req).then(function (res) {
      if (res.ok && !res.redirected) {
        var copy = res.clone();
        caches.open(CACHE).then(function (cache) { cache.put(url.pathname, copy); });
      }
      return res;
    }).catch(function () {
      return caches.match(url.pathname).then(function (hit) { return hit || Response.error(); });
    })
  );
});
