// The service worker, served as /sw.js (scope "/") by web/pwa.py, which stamps VERSION with a
// hash of static/ and of the offline page's template and translations: any change there makes a
// new worker and a new cache, and the old cache is deleted.
//   pages (navigations): network first (with navigation preload); when the network fails, the
//     cached /offline page;
//   /static/: cache first (a new VERSION refetches everything);
//   /api/, anything not GET, other sites: not touched, never cached.
// app.js posts "refresh-offline" when the page language changes, so the offline page follows it.
// Only /offline and /static/ are ever cached: they set no cookie and hold nobody's data.
"use strict";

const VERSION = "__SHELL_VERSION__";
const CACHE = "mall-" + VERSION;
const OFFLINE = "/offline";
const SHELL = [
  OFFLINE,
  "/static/css/app.css",
  "/static/js/app.js",
  "/static/js/pay.js",
  "/static/vendor/htmx/htmx-2.0.11.min.js",
  "/static/manifest.webmanifest",
  "/static/icons/icon.svg",
  "/static/icons/icon-192.png",
  "/static/icons/icon-512.png",
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(
      names.filter((name) => name.startsWith("mall-") && name !== CACHE)
        .map((name) => caches.delete(name)),
    );
    // The page request starts while the worker boots, which is slow on old phones.
    if (self.registration.navigationPreload) await self.registration.navigationPreload.enable();
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/")) return;
  if (request.mode === "navigate") {
    event.respondWith(pageOrOffline(event));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(request));
  }
});

self.addEventListener("message", (event) => {
  if (event.data === "refresh-offline") event.waitUntil(refresh(OFFLINE));
});

async function pageOrOffline(event) {
  try {
    return (await event.preloadResponse) || await fetch(event.request);
  } catch (error) {
    const offline = await caches.match(OFFLINE, { cacheName: CACHE });
    if (offline) return offline;
    throw error;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (cacheable(response)) await cache.put(request, response.clone());
  return response;
}

async function refresh(path) {
  try {
    const response = await fetch(path, { cache: "reload" });
    if (cacheable(response)) await (await caches.open(CACHE)).put(path, response);
  } catch (error) {
    // Offline again: the page cached before stays.
  }
}

function cacheable(response) {
  const control = response.headers.get("Cache-Control") || "";
  return response.ok && response.type === "basic" && !/no-store|private/.test(control);
}
