// The offline verifier page (/kiem-tra): loads the signed trust list (network first,
// then the copy this phone kept), checks it against the root pinned in the page, and
// checks stamps with it, all in the browser. No cookies; storage is optional (an
// in-app browser may have none, then the list lives for the visit only).
import { chooseEngine, Refusal, serial, verifyStamp, verifyTrustList } from "./trust.js";

const LIST_URL = "/.well-known/ocop-trust.jws";
const CACHE = "ocop-trust-list";
const SEQUENCE_KEY = "ocop-trust-sequence";
const MAX_INPUT = 4096;

const main = document.getElementById("offline");
const messages = {};
for (const node of document.getElementById("messages").content.querySelectorAll("[data-k]")) messages[node.dataset.k] = node.textContent;
const pins = (main.dataset.roots || "").split(",").filter(Boolean);
const params = new URLSearchParams(location.search);
let list = null;

function say(key, values = {}) {
  return (messages[key] || key).replace(/\{(\w+)\}/g, (_, name) => (name in values ? String(values[name]) : ""));
}

function when(seconds) {
  return new Date(seconds * 1000).toLocaleString(document.documentElement.lang === "en" ? "en-GB" : "vi-VN", {
    timeZone: "Asia/Ho_Chi_Minh", dateStyle: "short", timeStyle: "short",
  });
}

function show(id, text, state) {
  const node = document.getElementById(id);
  node.textContent = text;
  if (state !== undefined) node.dataset.state = state;
  node.hidden = !text;
}

function lastSequence() {
  try {
    const value = Number(localStorage.getItem(SEQUENCE_KEY));
    return Number.isSafeInteger(value) && value > 0 ? value : null;
  } catch (_) {
    return null;
  }
}

function remember(sequence) {
  try { localStorage.setItem(SEQUENCE_KEY, String(sequence)); } catch (_) { /* no storage: fine */ }
}

async function cached() {
  try {
    const response = await (await caches.open(CACHE)).match(LIST_URL);
    return response ? await response.text() : null;
  } catch (_) {
    return null;
  }
}

async function keep(text) {
  try {
    await (await caches.open(CACHE)).put(LIST_URL, new Response(text, { headers: { "Content-Type": "application/jose" } }));
  } catch (_) { /* no cache storage: fine */ }
}

async function fetched() {
  try {
    const response = await fetch(LIST_URL, { cache: "no-cache", credentials: "omit" });
    return response.ok ? await response.text() : null;
  } catch (_) {
    return null;
  }
}

async function check(text) {
  return verifyTrustList(text, pins, Math.floor(Date.now() / 1000), lastSequence());
}

async function loadList() {
  show("list", say("list_loading"), "loading");
  const now = await fetched();
  let fromCache = false;
  let text = now;
  let refusal = null;
  if (text !== null) {
    try {
      list = await check(text);
      await keep(text);
      remember(list.sequence);
    } catch (error) {
      refusal = error;
    }
  }
  if (list === null) {
    // Offline, or the new list was refused: the copy kept from an earlier visit.
    text = await cached();
    fromCache = text !== null;
    if (text !== null) {
      try {
        list = await check(text);
      } catch (error) {
        refusal = refusal || error;
      }
    }
  }
  if (refusal !== null) show("refusal", say("list_refused", { reason: say(`r_${refusal.code}`), detail: refusal.detail }), "bad");
  if (list === null) {
    if (refusal === null) show("list", say("list_none"), "bad");
    else show("list", "", "bad");
    return;
  }
  const summary = say("list_ok", { sequence: list.sequence, iat: when(list.iat), next: when(list.nextUpdate), count: list.keys.length });
  show("list", fromCache ? `${summary} ${say("list_cached")}` : summary, list.stale ? "stale" : "good");
  if (list.stale) show("stale", say("list_stale", { next: when(list.nextUpdate), until: when(list.usableUntil) }), "stale");
}

async function verify(text) {
  if (text.length > MAX_INPUT) text = "";
  const verdict = document.getElementById("verdict");
  if (list === null) {
    show("verdict", say("no_list"), "bad");
    verdict.dataset.status = "unchecked";
    return;
  }
  const result = await verifyStamp(text, list);
  verdict.dataset.status = result.status;
  verdict.dataset.reason = result.reason;
  const lines = [say(`s_${result.reason}`)];
  if (result.key) {
    lines.push(say("issuer", { org: result.key.org }));
    lines.push(say("serial", { serial: serial(result.token.batch, result.token.index) }));
  }
  if (result.status === "genuine") lines.push(say("offline_note"));
  if (list.stale) lines.push(say("stale_short"));
  show("verdict", lines.join("\n"), result.status === "genuine" ? "good" : "bad");
}

function fromLocation() {
  // Opened from the stamp's own URL while offline: the service worker answered /V/<token>.
  if (/\/v\//i.test(location.pathname)) return location.pathname;
  return location.hash.length > 1 ? location.hash.slice(1) : "";
}

async function start() {
  const engine = await chooseEngine(params.get("engine") === "noble");
  document.getElementById("engine").textContent = say("engine", { engine: engine === "webcrypto" ? "WebCrypto" : "noble-ed25519" });
  main.dataset.engine = engine;
  const form = document.getElementById("form");
  const input = document.getElementById("code");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    verify(input.value.slice(0, MAX_INPUT + 1)).catch(failed);
  });
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => { /* still works this visit */ });
  }
  await loadList();
  const given = fromLocation();
  if (given) {
    input.value = given.slice(0, MAX_INPUT);
    await verify(given);
  }
  main.dataset.ready = "1";
}

function failed(error) {
  // Never a silent failure: whatever went wrong is said on the page.
  show("refusal", say("list_refused", { reason: error instanceof Refusal ? say(`r_${error.code}`) : String(error) }), "bad");
  main.dataset.ready = "1";
}

start().catch(failed);
