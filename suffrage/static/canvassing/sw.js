/* The door-to-door app's service worker: the app opens and works without a network.

   Served by the app (mobile.service_worker) from /c/<campaign>/app/sw.js, so its scope
   is the app, with CONFIG written in front: {version, scope, shell: [static file URLs],
   offline: {title, text, link}}.

   - The shell (script, styles, Leaflet, icon): kept at install, served from the cache
     (the static files' addresses change with their content in production; the
     version changes with them, and with this file).
   - The app's pages and each turf's data.json: from the network when it answers
     within a few seconds, else the copy kept from the last visit. The page itself
     also keeps a copy of the turf it opens (app.js), so a turf opened once is
     available offline even before this worker controlled the page.
   - Records are not this worker's business: they live in IndexedDB and the page
     sends them (POST requests are never intercepted). */

var SHELL_PREFIX = "suffrage-canvassing-shell-" + CONFIG.scope + "-";
var SHELL_CACHE = SHELL_PREFIX + CONFIG.version;
var PAGES_CACHE = "suffrage-canvassing-pages";
var NETWORK_WAIT_MS = 5000;
var MATCH = { ignoreVary: true };

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL_CACHE)
      .then(function (cache) { return cache.addAll(CONFIG.shell); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys()
      .then(function (keys) {
        return Promise.all(keys.filter(function (key) {
          return key.indexOf(SHELL_PREFIX) === 0 && key !== SHELL_CACHE;
        }).map(function (key) { return caches.delete(key); }));
      })
      .then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return; // map tiles and the like: not kept
  var inApp = url.pathname.indexOf(CONFIG.scope) === 0;
  if (request.mode === "navigate") {
    if (inApp) event.respondWith(networkFirst(request, url, true));
    return;
  }
  if (inApp && /\/data\.json$/.test(url.pathname)) {
    event.respondWith(networkFirst(request, url, false));
    return;
  }
  if (CONFIG.shell.indexOf(url.pathname) !== -1) event.respondWith(fromShell(request));
});

function keyOf(url) {
  return url.origin + url.pathname;
}

function networkFirst(request, url, isPage) {
  return caches.open(PAGES_CACHE).then(function (cache) {
    var network = fetch(request).then(function (response) {
      // A sign-in page after a redirect is not the page asked for: never keep it.
      if (response.ok && !response.redirected && response.type === "basic") {
        cache.put(keyOf(url), response.clone());
      }
      return response;
    });
    network.catch(function () {}); // a failure is handled below, once
    var fallback = function () {
      return cache.match(keyOf(url), MATCH).then(function (kept) {
        if (kept) return kept;
        return network.catch(function () {
          return isPage ? offlinePage() : Response.error();
        });
      });
    };
    var slow = new Promise(function (resolve) { setTimeout(resolve, NETWORK_WAIT_MS, "slow"); });
    return Promise.race([network, slow]).then(function (winner) {
      return winner === "slow" ? fallback() : winner;
    }, fallback);
  });
}

function fromShell(request) {
  return caches.open(SHELL_CACHE).then(function (cache) {
    return cache.match(request, { ignoreSearch: true, ignoreVary: true }).then(function (kept) {
      if (kept) return kept;
      return fetch(request).then(function (response) {
        if (response.ok) cache.put(request, response.clone());
        return response;
      });
    });
  });
}

function offlinePage() {
  var text = CONFIG.offline;
  var escape = function (value) {
    return String(value).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; });
  };
  var body = '<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
    + "<title>" + escape(text.title) + '</title></head><body style="font-family: sans-serif; padding: 1rem">'
    + "<h1>" + escape(text.title) + "</h1><p>" + escape(text.text) + '</p><p><a href="' + escape(CONFIG.scope) + '">'
    + escape(text.link) + "</a></p></body></html>";
  return new Response(body, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}
