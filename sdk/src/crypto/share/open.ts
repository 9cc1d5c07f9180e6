import { aesGcmDecrypt } from "../aead.js";
import { type Bytes, bytesEqual } from "../bytes.js";
import type { DeviceKeys } from "../device-keys.js";
import { type DeviceLogState, findDevice } from "../device-log/state.js";
import { fromBase64url } from "../encoding.js";
import { CryptoError, ShareError } from "../errors.js";
import { importPublicKey, kemKeyId } from "../public-keys.js";
import { verify } from "../signatures.js";
import {
  ciphertextHash,
  contentAad,
  encodeForward,
  encodeManifest,
  FORWARD_SIGNATURE_LABEL,
  keyCommitment,
  MANIFEST_SIGNATURE_LABEL,
  manifestHash,
} from "./encoding.js";
import { unpad } from "./padding.js";
import { parseEnvelope, parseForward, parseWrap } from "./shape.js";
import type { ManifestRecipient, ShareEnvelope, ShareForward, ShareManifest, ShareTarget } from "./types.js";
import { unwrapKey, type WrapContext } from "./wrap.js";

export interface ShareReader {
  userId: string;
  keys: DeviceKeys;
  /** This user's own verified device log: every device of this user the share names must be in it. */
  log: DeviceLogState;
}

export interface OpenShareParams {
  envelope: unknown;
  /** This device's wrap, as `shares.get` returns it. */
  wrap: unknown;
  me: ShareReader;
  /** The sender's verified device log. */
  senderLog: DeviceLogState;
  /** What the caller asked for: a share served under another id or target is refused. */
  expected: { shareId: string; target?: ShareTarget };
  /** When this device's key came through a forward (backfill): the record and its forwarder's verified log. */
  forward?: { record: unknown; forwarderLog: DeviceLogState };
}

export interface OpenedShare {
  plaintext: Bytes;
  manifest: ShareManifest;
  /** Things worth telling the user that do not make the share untrustworthy (a sender's stale view of a revocation). */
  warnings: string[];
}

function sameTarget(a: ShareTarget, b: ShareTarget): boolean {
  return "teamId" in a ? "teamId" in b && a.teamId === b.teamId : "userId" in b && a.userId === b.userId;
}

/** A device-log head the signer claims must be a point of the log as we verified it. */
function checkHead(log: DeviceLogState, head: { seq: number; hash: string }, who: string): void {
  if (head.seq > log.head.seq)
    throw new ShareError(
      "stale_sender_log",
      `${who} signed at link ${head.seq} of its device log, past the ${log.head.seq} we verified: refresh the log`,
    );
  if (log.hashes[head.seq] !== head.hash)
    throw new ShareError("sender_log_forked", `${who} saw another device log at link ${head.seq} than the one we verified`);
}

async function checkSignedBy(
  log: DeviceLogState,
  userId: string,
  deviceId: string,
  who: string,
  message: Uint8Array,
  label: string,
  signature: string,
) {
  if (log.userId !== userId) throw new ShareError("wrong_sender", `the ${who} is ${userId}, but the device log given is ${log.userId}'s`);
  const device = findDevice(log, deviceId);
  if (device?.kind !== "device")
    throw new ShareError("unknown_sender_device", `the ${who} device ${deviceId} is not in ${userId}'s device log`);
  if (device.status !== "active")
    throw new ShareError("sender_revoked", `the ${who} device ${deviceId} was revoked at link ${device.revokedAt}`);
  if (!(await verify(await importPublicKey(device.signingKey, "signing"), label, message, signature)))
    throw new ShareError("bad_signature", `the ${who}'s signature by ${deviceId} does not verify: the share was changed`);
}

/**
 * Self-monitoring (crypto.md §4.5): every device of my own user that the share was encrypted to
 * must be in my verified log, or the server slipped a device in.
 */
function checkOwnDevices(me: ShareReader, entries: ManifestRecipient[], warnings: string[]): void {
  for (const entry of entries.filter((e) => e.userId === me.userId)) {
    if (entry.logHead.seq > me.log.head.seq)
      throw new ShareError(
        "stale_own_log",
        `the share names link ${entry.logHead.seq} of your device log, past the ${me.log.head.seq} verified here: refresh it`,
      );
    if (me.log.hashes[entry.logHead.seq] !== entry.logHead.hash)
      throw new ShareError(
        "unknown_own_device",
        `the share was encrypted from another version of your device log than yours (at link ${entry.logHead.seq})`,
      );
    const device = findDevice(me.log, entry.deviceId);
    if (!device)
      throw new ShareError(
        "unknown_own_device",
        `the share was also encrypted to ${entry.deviceId}, a device that is not in your device log`,
      );
    if (device.status === "revoked") warnings.push(`the share was also encrypted to your revoked device ${entry.deviceId}`);
  }
}

/**
 * Opens a share and returns its plaintext only if everything checks (crypto.md §8 "decrypt"):
 * ids as asked; the sender device active in the sender's verified log and its signature over the
 * manifest; the sender's and my log heads consistent with the logs verified here; my own devices
 * all known; my wrap the signed one; the ciphertext the signed one; the unwrapped key matching the
 * key commitment; AES-256-GCM under the bound AAD. Any failure is a ShareError naming it.
 */
export async function openShare(params: OpenShareParams): Promise<OpenedShare> {
  const { plaintext, manifest, warnings } = await openShareAndKey(params);
  return { plaintext, manifest, warnings };
}

/** openShare, also returning the share key and ciphertext hash: for forwarding inside the core only. */
export async function openShareAndKey(params: OpenShareParams): Promise<OpenedShare & { key: Bytes; ctHash: Bytes }> {
  const envelope: ShareEnvelope = parseEnvelope(params.envelope);
  const wrap = parseWrap(params.wrap);
  const m = envelope.manifest;
  const { me } = params;
  const warnings: string[] = [];
  if (m.shareId !== params.expected.shareId)
    throw new ShareError("wrong_share", `asked for share ${params.expected.shareId}, got ${m.shareId}`);
  if (params.expected.target && !sameTarget(m.target, params.expected.target))
    throw new ShareError("wrong_target", "the share was signed for another team or user");

  const manifestBytes = encodeManifest(m);
  await checkSignedBy(
    params.senderLog,
    m.senderUserId,
    m.senderDeviceId,
    "sender",
    manifestBytes,
    MANIFEST_SIGNATURE_LABEL,
    envelope.signature,
  );
  checkHead(params.senderLog, m.senderLogHead, `the sender ${m.senderUserId}`);
  checkOwnDevices(me, m.recipients, warnings);

  const ciphertext = fromBase64url(envelope.ciphertext);
  const nonce = fromBase64url(m.nonce);
  const ctHash = await ciphertextHash(nonce, ciphertext);
  if (ciphertext.length !== m.ciphertextLength || !bytesEqual(ctHash, fromBase64url(m.ciphertextHash)))
    throw new ShareError("ciphertext_mismatch", "the ciphertext is not the one the sender signed");

  const context: WrapContext = {
    suite: m.suite,
    target: m.target,
    shareId: m.shareId,
    version: m.version,
    senderUserId: m.senderUserId,
    senderDeviceId: m.senderDeviceId,
  };
  let entries = m.recipients;
  let forwarder: { userId: string; deviceId: string } | undefined;
  if (params.forward) {
    const record = await verifyForwardSignature(params.forward.record, m, params.forward.forwarderLog);
    if (record.forwarderUserId !== m.senderUserId && !m.recipients.some((r) => r.userId === record.forwarderUserId))
      throw new ShareError("bad_forward", `the forwarder ${record.forwarderUserId} was not a recipient of the share`);
    checkOwnDevices(me, record.recipients, warnings);
    entries = record.recipients;
    forwarder = { userId: record.forwarderUserId, deviceId: record.forwarderDeviceId };
  }

  const entry = entries.find((r) => r.userId === me.userId && r.deviceId === me.keys.deviceId);
  if (!entry) throw new ShareError("not_a_recipient", `device ${me.keys.deviceId} is not a recipient of share ${m.shareId}`);
  if (!me.keys.kemPublicKey || entry.kemKeyId !== (await kemKeyId(me.keys.kemPublicKey)))
    throw new ShareError("wrong_kem_key", "the share key was wrapped to another KEM key of this device (rotated?)");
  const key = await unwrapKey(context, me, entry, wrap, ctHash, forwarder);
  if (!bytesEqual(await keyCommitment(key, m.shareId, m.version), fromBase64url(m.keyCommitment)))
    throw new ShareError("key_commitment_mismatch", "the unwrapped key is not the key the sender committed to");
  let padded: Bytes;
  try {
    padded = await aesGcmDecrypt(key, nonce, ciphertext, contentAad(context));
  } catch (error) {
    if (error instanceof CryptoError)
      throw new ShareError("decrypt_failed", "the content does not decrypt in this share's context", { cause: error });
    throw error;
  }
  return { plaintext: unpad(padded), manifest: m, warnings, key, ctHash };
}

/** Checks an envelope's shape and the sender's signature against the sender's verified log (what a server can check on upload). */
export async function verifyShareSignature(envelope: unknown, senderLog: DeviceLogState): Promise<ShareEnvelope> {
  const parsed = parseEnvelope(envelope);
  const m = parsed.manifest;
  await checkSignedBy(senderLog, m.senderUserId, m.senderDeviceId, "sender", encodeManifest(m), MANIFEST_SIGNATURE_LABEL, parsed.signature);
  checkHead(senderLog, m.senderLogHead, `the sender ${m.senderUserId}`);
  return parsed;
}

/**
 * A forward record's own checks: for this manifest (share, version, manifest hash), signed by an
 * active device of the forwarder's verified log, at a head of that log. openShare runs it; the
 * server runs it before storing a forward (defence in depth: readers check again).
 */
export async function verifyForwardSignature(
  record: unknown,
  manifest: ShareManifest,
  forwarderLog: DeviceLogState,
): Promise<ShareForward> {
  const parsed = parseForward(record);
  if (parsed.shareId !== manifest.shareId || parsed.version !== manifest.version || parsed.manifestHash !== (await manifestHash(manifest)))
    throw new ShareError("bad_forward", "the forward refers to another share or version");
  const { signature, ...unsigned } = parsed;
  await checkSignedBy(
    forwarderLog,
    parsed.forwarderUserId,
    parsed.forwarderDeviceId,
    "forwarder",
    encodeForward(unsigned),
    FORWARD_SIGNATURE_LABEL,
    signature,
  );
  checkHead(forwarderLog, parsed.forwarderLogHead, `the forwarder ${parsed.forwarderUserId}`);
  return parsed;
}
