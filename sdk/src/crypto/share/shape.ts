import { fromBase64url } from "../encoding.js";
import { ShareError } from "../errors.js";
import { SUITE } from "../suite.js";
import type { ManifestRecipient, RecipientWrap, ShareEnvelope, ShareForward, ShareManifest, ShareTarget } from "./types.js";

/**
 * Shape checks for shares from the outside (the server validates uploads with them too): types,
 * lengths, canonical base64url, sorted and unique recipients. They return only known fields.
 */
export const MAX_RECIPIENTS = 5000;
const MAX_ID = 128;

type Obj = Record<string, unknown>;

function fail(message: string): never {
  throw new ShareError("malformed_envelope", message);
}

function object(value: unknown, what: string): Obj {
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail(`${what} must be an object`);
  return value as Obj;
}

function id(value: unknown, what: string): string {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_ID || !/^[\x21-\x7e]+$/.test(value))
    fail(`${what} must be 1 to ${MAX_ID} printable ASCII characters`);
  return value;
}

function b64(value: unknown, what: string, length?: number): string {
  if (typeof value !== "string") fail(`${what} must be a base64url string`);
  let bytes: Uint8Array;
  try {
    bytes = fromBase64url(value);
  } catch {
    fail(`${what} is not canonical base64url`);
  }
  if (length !== undefined && bytes.length !== length) fail(`${what} must be ${length} bytes, not ${bytes.length}`);
  return value;
}

function int(value: unknown, what: string, min = 0): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) fail(`${what} must be an integer ≥ ${min}`);
  return value;
}

function head(value: unknown, what: string) {
  const h = object(value, what);
  return { seq: int(h.seq, `${what}.seq`), hash: b64(h.hash, `${what}.hash`, 32) };
}

export function parseTarget(value: unknown): ShareTarget {
  const t = object(value, "target");
  const keys = Object.keys(t).filter((k) => t[k] !== undefined);
  if (keys.length !== 1) fail("target is { teamId } or { userId }");
  if ("teamId" in t && t.teamId !== undefined) return { teamId: id(t.teamId, "target.teamId") };
  if ("userId" in t && t.userId !== undefined) return { userId: id(t.userId, "target.userId") };
  return fail("target is { teamId } or { userId }");
}

function checkSuite(v: unknown, suite: unknown): void {
  if (v !== 1) throw new ShareError("unsupported_version", `version ${String(v)} is unknown; only 1 is`);
  if (suite !== SUITE) throw new ShareError("unsupported_suite", `suite ${String(suite)} is not allowed; only ${SUITE} is`);
}

function recipients(value: unknown, what: string): ManifestRecipient[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_RECIPIENTS)
    fail(`${what} must list 1 to ${MAX_RECIPIENTS} devices`);
  const list = value.map((item, i) => {
    const r = object(item, `${what}[${i}]`);
    return {
      userId: id(r.userId, `${what}[${i}].userId`),
      deviceId: id(r.deviceId, `${what}[${i}].deviceId`),
      kemKeyId: b64(r.kemKeyId, `${what}[${i}].kemKeyId`, 16),
      logHead: head(r.logHead, `${what}[${i}].logHead`),
      wrapHash: b64(r.wrapHash, `${what}[${i}].wrapHash`, 32),
    };
  });
  for (let i = 1; i < list.length; i++) {
    const a = list[i - 1] as ManifestRecipient;
    const b = list[i] as ManifestRecipient;
    if (compareRecipients(a, b) >= 0)
      fail(`${what} must be sorted by (userId, deviceId) without duplicates (at ${b.userId}/${b.deviceId})`);
  }
  return list;
}

export function compareRecipients(a: { userId: string; deviceId: string }, b: { userId: string; deviceId: string }): number {
  if (a.userId !== b.userId) return a.userId < b.userId ? -1 : 1;
  if (a.deviceId !== b.deviceId) return a.deviceId < b.deviceId ? -1 : 1;
  return 0;
}

export function parseManifest(value: unknown): ShareManifest {
  const m = object(value, "manifest");
  checkSuite(m.v, m.suite);
  return {
    v: 1,
    suite: SUITE,
    target: parseTarget(m.target),
    shareId: id(m.shareId, "manifest.shareId"),
    version: int(m.version, "manifest.version", 1),
    prevVersionHash: m.prevVersionHash === null ? null : b64(m.prevVersionHash, "manifest.prevVersionHash", 32),
    senderUserId: id(m.senderUserId, "manifest.senderUserId"),
    senderDeviceId: id(m.senderDeviceId, "manifest.senderDeviceId"),
    senderLogHead: head(m.senderLogHead, "manifest.senderLogHead"),
    nonce: b64(m.nonce, "manifest.nonce", 12),
    ciphertextLength: int(m.ciphertextLength, "manifest.ciphertextLength", 16),
    ciphertextHash: b64(m.ciphertextHash, "manifest.ciphertextHash", 32),
    keyCommitment: b64(m.keyCommitment, "manifest.keyCommitment", 32),
    createdAt: int(m.createdAt, "manifest.createdAt"),
    expiresAt: m.expiresAt === null ? null : int(m.expiresAt, "manifest.expiresAt", 1),
    recipients: recipients(m.recipients, "manifest.recipients"),
  };
}

export function parseEnvelope(value: unknown): ShareEnvelope {
  const e = object(value, "envelope");
  checkSuite(1, e.suite);
  const manifest = parseManifest(e.manifest);
  const envelope: ShareEnvelope = {
    suite: SUITE,
    nonce: b64(e.nonce, "envelope.nonce", 12),
    ciphertext: b64(e.ciphertext, "envelope.ciphertext"),
    manifest,
    signature: b64(e.signature, "envelope.signature", 64),
  };
  if (envelope.nonce !== manifest.nonce)
    throw new ShareError("ciphertext_mismatch", "the envelope's nonce is not the one the manifest signs");
  return envelope;
}

export function parseWrap(value: unknown): RecipientWrap {
  const w = object(value, "wrap");
  return {
    userId: id(w.userId, "wrap.userId"),
    deviceId: id(w.deviceId, "wrap.deviceId"),
    kemKeyId: b64(w.kemKeyId, "wrap.kemKeyId", 16),
    enc: b64(w.enc, "wrap.enc", 65),
    wrappedKey: b64(w.wrappedKey, "wrap.wrappedKey", 48),
  };
}

export function parseForward(value: unknown): ShareForward {
  const f = object(value, "forward");
  checkSuite(f.v, f.suite);
  return {
    v: 1,
    suite: SUITE,
    shareId: id(f.shareId, "forward.shareId"),
    version: int(f.version, "forward.version", 1),
    manifestHash: b64(f.manifestHash, "forward.manifestHash", 32),
    forwarderUserId: id(f.forwarderUserId, "forward.forwarderUserId"),
    forwarderDeviceId: id(f.forwarderDeviceId, "forward.forwarderDeviceId"),
    forwarderLogHead: head(f.forwarderLogHead, "forward.forwarderLogHead"),
    createdAt: int(f.createdAt, "forward.createdAt"),
    recipients: recipients(f.recipients, "forward.recipients"),
    signature: b64(f.signature, "forward.signature", 64),
  };
}
