// The offline verifier's rules, the same as keys/signedlist.py and stamps/offline.py
// (docs/trust-list.md): a signed trust list checked against the pinned root, then a
// stamp (STAMP-FORMAT.md) checked against the list. Ed25519 by WebCrypto where the
// browser has it, by the vendored noble-ed25519 where it does not. No DOM here.
import * as noble from "./noble-ed25519.js";

const LIST_TYP = "ocop-trust-list+jws";
const CERT_TYP = "ocop-key-cert+jws";
const REVOCATION_TYP = "ocop-key-revocation+jws";
const ROTATION_TYP = "ocop-root-rotation+jws";
const MAX_LIST = 8000000;
const DAY = 86400;
export const GRACE_SECONDS = 7 * DAY;

// A refusal: a machine code (a message key of the page) and a detail for the curious.
export class Refusal extends Error {
  constructor(code, detail) {
    super(detail || code);
    this.code = code;
    this.detail = detail || "";
  }
}

// --- Ed25519 ---------------------------------------------------------------------

let engine = null;

export async function chooseEngine(forceNoble) {
  if (!forceNoble && globalThis.crypto && crypto.subtle) {
    try {
      // Feature test: a browser without WebCrypto Ed25519 throws here.
      await crypto.subtle.importKey("raw", new Uint8Array(32).fill(1), { name: "Ed25519" }, false, ["verify"]);
      engine = "webcrypto";
      return engine;
    } catch (_) { /* fall through to noble */ }
  }
  engine = "noble";
  return engine;
}

export async function ed25519Verify(publicKey, signature, message) {
  if (engine === null) await chooseEngine(false);
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  if (engine === "webcrypto") {
    try {
      const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
      return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
    } catch (_) {
      return false;
    }
  }
  try {
    // RFC 8032's strict reading, as OpenSSL (the server's) verifies.
    return await noble.verifyAsync(signature, message, publicKey, { zip215: false });
  } catch (_) {
    return false;
  }
}

// --- encodings -------------------------------------------------------------------

const B64URL = /^[A-Za-z0-9_-]*$/;

export function b64urlDecode(text) {
  if (typeof text !== "string" || !B64URL.test(text) || text.length % 4 === 1) {
    throw new Refusal("malformed", "not base64url");
  }
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  if (b64urlEncode(bytes) !== text) throw new Refusal("malformed", "not canonical base64url");
  return bytes;
}

export function b64urlEncode(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const ascii = new TextEncoder();

export async function thumbprint(x) {
  const canonical = `{"crv":"Ed25519","kty":"OKP","x":"${x}"}`;
  return b64urlEncode(new Uint8Array(await crypto.subtle.digest("SHA-256", ascii.encode(canonical))));
}

function jwkKey(jwk, what) {
  if (!jwk || typeof jwk !== "object" || jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || "d" in jwk) {
    throw new Refusal("malformed_list", `${what}: not an Ed25519 public JWK`);
  }
  const raw = b64urlDecode(jwk.x || "");
  if (raw.length !== 32) throw new Refusal("malformed_list", `${what}: x is not 32 bytes`);
  return raw;
}

// --- compact JWS -----------------------------------------------------------------

export function parseJws(text, typ, what) {
  if (typeof text !== "string" || text.length > MAX_LIST) throw new Refusal("malformed_list", `${what}: not a compact JWS`);
  const parts = text.trim().split(".");
  if (parts.length !== 3) throw new Refusal("malformed_list", `${what}: not a compact JWS`);
  let header, payload, signature;
  try {
    header = JSON.parse(utf8.decode(b64urlDecode(parts[0])));
    payload = JSON.parse(utf8.decode(b64urlDecode(parts[1])));
    signature = b64urlDecode(parts[2]);
  } catch (_) {
    throw new Refusal("malformed_list", `${what}: not a compact JWS`);
  }
  if (!isObject(header) || !isObject(payload)) throw new Refusal("malformed_list", `${what}: not JSON objects`);
  if (header.alg !== "EdDSA" || header.typ !== typ || typeof header.kid !== "string"
      || Object.keys(header).some((k) => !["alg", "typ", "kid"].includes(k))) {
    throw new Refusal("malformed_list", `${what}: header must be EdDSA, ${typ}, with a kid`);
  }
  if (signature.length !== 64) throw new Refusal("malformed_list", `${what}: signature is not 64 bytes`);
  return { header, payload, signature, input: ascii.encode(`${parts[0]}.${parts[1]}`) };
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function numericDate(body, member, what) {
  const value = body[member];
  if (!Number.isInteger(value) || value < 0 || value >= 253402300800) {
    throw new Refusal("malformed_list", `${what}: "${member}" must be a NumericDate`);
  }
  return value;
}

async function readStatement(text, typ, roots, what) {
  const jws = parseJws(text, typ, what);
  const root = roots.get(jws.header.kid);
  if (!root) throw new Refusal("unknown_root", `${what} is signed by ${jws.header.kid}, not a trusted root`);
  if (jws.payload.iss !== jws.header.kid) throw new Refusal("malformed_list", `${what}: "iss" is not its signer`);
  if (!(await ed25519Verify(root, jws.signature, jws.input))) {
    throw new Refusal("bad_signature", `the signature of ${what} does not verify`);
  }
  return jws;
}

async function readCertificate(text, roots, what) {
  const jws = await readStatement(text, CERT_TYP, roots, what);
  const body = jws.payload;
  const key = jwkKey(body.jwk, what);
  const kid = await thumbprint(body.jwk.x);
  if (body.sub !== kid) throw new Refusal("malformed_list", `${what}: "sub" is not its key's thumbprint`);
  if (!isObject(body.org) || typeof body.org.name !== "string" || typeof body.org.id !== "string") {
    throw new Refusal("malformed_list", `${what}: "org" must have an id and a name`);
  }
  return {
    rootKid: jws.header.kid, kid, key, purpose: body.purpose, org: body.org,
    nbf: numericDate(body, "nbf", what), exp: numericDate(body, "exp", what),
  };
}

// --- the signed trust list ---------------------------------------------------------

// pins: thumbprints of the pinned roots; now: seconds; lastSequence: the highest seen, or null.
export async function verifyTrustList(text, pins, now, lastSequence) {
  const jws = parseJws(text, LIST_TYP, "trust list");
  const body = jws.payload;
  const iat = numericDate(body, "iat", "trust list");
  const nextUpdate = numericDate(body, "next_update", "trust list");
  const sequence = body.sequence;
  if (!Number.isSafeInteger(sequence) || sequence < 1) throw new Refusal("malformed_list", '"sequence" must be a positive whole number');
  if (nextUpdate <= iat) throw new Refusal("malformed_list", '"next_update" must be after "iat"');
  if (!Array.isArray(body.keys)) throw new Refusal("malformed_list", '"keys" must be an array');
  const roots = await trustedRoots(pins, body);
  const signerCert = await signerCertificate(body.signer_certificate, roots, jws.header.kid, now);
  if (!(await ed25519Verify(signerCert.key, jws.signature, jws.input))) {
    throw new Refusal("bad_signature", "the trust list's signature does not verify");
  }
  if (lastSequence !== null && lastSequence !== undefined && sequence < lastSequence) {
    throw new Refusal("sequence_rollback", `sequence ${sequence} is older than ${lastSequence} seen before`);
  }
  const usableUntil = nextUpdate + GRACE_SECONDS;
  if (now > usableUntil) throw new Refusal("trust_list_expired", "past next_update and the grace period");
  const listRoot = new Map([[signerCert.rootKid, roots.get(signerCert.rootKid)]]);
  const { keys, dropped } = await certifiedKeys(body.keys, listRoot, now);
  await applyRevocations(keys, body.revocations, roots);
  return {
    keys, dropped, sequence, iat, nextUpdate, usableUntil,
    stale: now > nextUpdate, rootKid: signerCert.rootKid,
  };
}

async function trustedRoots(pins, body) {
  const offered = new Map();
  for (const jwk of arrayOf(body, "roots", 16)) {
    const key = jwkKey(jwk, "roots");
    offered.set(await thumbprint(jwk.x), key);
  }
  const roots = new Map();
  for (const pin of pins) if (offered.has(pin)) roots.set(pin, offered.get(pin));
  const rotations = arrayOf(body, "root_rotations", 64);
  for (let pass = 0; pass < rotations.length; pass++) {
    let added = false;
    for (const [i, text] of rotations.entries()) {
      let jws;
      try {
        jws = await readStatement(text, ROTATION_TYP, roots, `root_rotations[${i}]`);
      } catch (error) {
        if (error.code === "unknown_root") continue;
        throw error;
      }
      const key = jwkKey(jws.payload.jwk, "rotation");
      const kid = await thumbprint(jws.payload.jwk.x);
      if (jws.payload.sub !== kid) throw new Refusal("malformed_list", "a rotation's sub is not its key");
      if (!roots.has(kid)) { roots.set(kid, key); added = true; }
    }
    if (!added) break;
  }
  if (roots.size === 0) throw new Refusal("unknown_root", "the list offers no root pinned here");
  return roots;
}

async function signerCertificate(text, roots, signerKid, now) {
  if (typeof text !== "string") throw new Refusal("list_signer_not_certified", "no signer certificate");
  const cert = await readCertificate(text, roots, "the list signer's certificate");
  if (cert.kid !== signerKid || cert.purpose !== "trust-list-signer") {
    throw new Refusal("list_signer_not_certified", `key ${signerKid} is not certified to sign lists`);
  }
  if (now < cert.nbf || now > cert.exp) throw new Refusal("certificate_expired", "the list signer's certificate is not valid now");
  return cert;
}

async function certifiedKeys(entries, root, now) {
  const keys = [];
  const dropped = [];
  const seen = new Set();
  for (const [i, entry] of entries.entries()) {
    if (!isObject(entry)) throw new Refusal("malformed_list", `keys[${i}] must be an object`);
    const key = jwkKey(entry, `keys[${i}]`);
    const kid = await thumbprint(entry.x);
    if (entry.kid !== kid || seen.has(kid)) throw new Refusal("malformed_list", `keys[${i}].kid is wrong or repeated`);
    seen.add(kid);
    if (!["active", "retired", "revoked"].includes(entry.status)) throw new Refusal("malformed_list", `keys[${i}].status`);
    let cert;
    try {
      cert = await readCertificate(entry.cert, root, `keys[${i}].cert`);
    } catch (error) {
      dropped.push({ kid, reason: error.detail || error.code });
      continue;
    }
    if (cert.kid !== kid) { dropped.push({ kid, reason: "its certificate is for another key" }); continue; }
    if (cert.purpose !== "stamp-issuer") { dropped.push({ kid, reason: "its certificate does not allow signing stamps" }); continue; }
    if (now < cert.nbf || now > cert.exp) { dropped.push({ kid, reason: "its certificate is not valid now" }); continue; }
    keys.push({ kid, key, prefix: b64urlDecode(kid).subarray(0, 8), status: entry.status, org: cert.org.name });
  }
  return { keys, dropped };
}

async function applyRevocations(keys, statements, roots) {
  const revoked = new Set();
  for (const [i, text] of arrayOf({ revocations: statements }, "revocations", 10000).entries()) {
    const jws = await readStatement(text, REVOCATION_TYP, roots, `revocations[${i}]`);
    revoked.add(jws.payload.sub);
  }
  for (const key of keys) if (revoked.has(key.kid)) key.status = "revoked";
}

function arrayOf(body, member, most) {
  const value = body[member] === undefined ? [] : body[member];
  if (!Array.isArray(value) || value.length > most) throw new Refusal("malformed_list", `"${member}" must be an array`);
  return value;
}

// --- the stamp (STAMP-FORMAT.md) -------------------------------------------------

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const TOKEN_LENGTH = 130;
const DOMAIN = ascii.encode("OCOP-STAMP-V1");

// Step 1: the token in a URL or a typed code; null when it is none.
export function parseToken(text) {
  if (typeof text !== "string" || text.length > 4096) return null;
  if (text.includes("/")) {
    const start = Math.max(text.lastIndexOf("/V/"), text.lastIndexOf("/v/"));
    if (start < 0) return null;
    text = text.slice(start + 3).split("?")[0].split("#")[0];
  }
  const token = text.trim();
  if (token.length !== TOKEN_LENGTH || !/^[A-Za-z2-7]+$/.test(token)) return null;
  // 130 characters carry 650 bits for 648: the two spare bits must be zero.
  const bytes = new Uint8Array(81);
  let buffer = 0, bits = 0, n = 0;
  for (const char of token.toUpperCase()) {
    buffer = (buffer << 5) | ALPHABET.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes[n++] = (buffer >> bits) & 0xff;
    }
    buffer &= (1 << bits) - 1;
  }
  if (buffer !== 0 || bytes[0] !== 0x01) return null;
  const view = new DataView(bytes.buffer);
  return {
    prefix: bytes.subarray(1, 9), batch: view.getUint32(9), index: view.getUint32(13),
    signed: bytes.subarray(0, 17), signature: bytes.subarray(17),
  };
}

// Steps 2 to 5: {status, reason, key?, token?}.
export async function verifyStamp(text, list) {
  const token = parseToken(text);
  if (token === null) return { status: "invalid", reason: "malformed" };
  const candidates = list.keys.filter((k) => k.prefix.every((b, i) => b === token.prefix[i]));
  if (candidates.length === 0) return { status: "invalid", reason: "unknown_key", token };
  const message = new Uint8Array(DOMAIN.length + 17);
  message.set(DOMAIN);
  message.set(token.signed, DOMAIN.length);
  for (const key of candidates) {
    if (await ed25519Verify(key.key, token.signature, message)) {
      if (key.status === "revoked") return { status: "revoked", reason: "key_revoked", token, key };
      return { status: "genuine", reason: "offline_uniqueness_unchecked", token, key };
    }
  }
  return { status: "invalid", reason: "bad_signature", token };
}

// The serial printed under the QR: batch, 1-based number, Damm check digit (stamps/serial.py).
const DAMM = ["0317598642", "7092154863", "4206871359", "1750983426", "6123045978",
  "3674209581", "5869720134", "8945362017", "9438617205", "2581436790"];

export function serial(batch, index) {
  const number = String(index + 1).padStart(6, "0");
  let interim = 0;
  for (const digit of `${batch}${number}`) interim = Number(DAMM[interim][Number(digit)]);
  return `${batch}-${number}-${interim}`;
}
