// Service worker of the offline verifier. It answers only: the verifier's own files
// (network first, the kept copy when offline) and, when the network is down, the
// stamp URLs /V/<code> and /v/<code> with the offline verifier. Every other request
// is left to the browser untouched, so the rest of the site works as before.
const SHELL = "ocop-offline-v1";
const PAGE = "/kiem-tra";
const FILES = [
  PAGE,
  `${PAGE}?lang=en`,
  `${PAGE}/manifest.webmanifest`,
  "/static/offline/page.js",
  "/static/offline/trust.js",
  "/static/offline/noble-ed25519.js",
  "/static/offline/offline.css",
  "/static/offline/icon.svg",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("ocop-offline-") && n !== SHELL).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

function shellFile(url) {
  return url.origin === self.location.origin && FILES.includes(url.pathname + url.search);
}

function stampUrl(url) {
  return url.origin === self.location.origin && /^\/[vV]\/[^/]+$/.test(url.pathname);
}

async function networkFirst(request, fallback) {
  try {
    const response = await fetch(request);
    if (response.ok && shellFile(new URL(request.url))) {
      const copy = response.clone();
      caches.open(SHELL).then((cache) => cache.put(request, copy));
    }
    return response;
  } catch (error) {
    const kept = await caches.match(fallback || request, { ignoreVary: true });
    if (kept) return kept;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (request.mode === "navigate" && stampUrl(url)) {
    const lang = url.searchParams.get("lang") === "en" ? `${PAGE}?lang=en` : PAGE;
    event.respondWith(networkFirst(request, lang));
  } else if (shellFile(url)) {
    event.respondWith(networkFirst(request));
  }
});
