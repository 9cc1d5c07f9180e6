import { DeviceLogError, type DeviceLogErrorReason, KeyError } from "../errors.js";
import { importPublicKey, kemKeyId, type PublicKeyUse } from "../public-keys.js";
import { verify } from "../signatures.js";
import type { DeviceLink } from "./link.js";
import { encodeLinkBody, LINK_REVERSE_SIGNATURE_LABEL, LINK_SIGNATURE_LABEL, linkHash } from "./link-encoding.js";
import { parseLink } from "./link-shape.js";
import { activeSigners, type DeviceLogState, type DeviceRecord, findDevice, userFingerprint } from "./state.js";

function describe(link: DeviceLink): string {
  return `link ${link.seq} (${link.type} ${link.deviceId} by ${link.signerDeviceId})`;
}

function fail(reason: DeviceLogErrorReason, link: DeviceLink, message: string, cause?: unknown): never {
  throw new DeviceLogError(reason, `${describe(link)}: ${message}`, { seq: link.seq, deviceId: link.deviceId, userId: link.userId, cause });
}

async function importKey(link: DeviceLink, key: string, use: PublicKeyUse, field: string): Promise<CryptoKey> {
  try {
    return await importPublicKey(key, use, field);
  } catch (error) {
    if (error instanceof KeyError) fail("bad_key", link, error.message, error);
    throw error;
  }
}

function requireFields(link: DeviceLink, fields: { signingKey: boolean; kemKey: boolean; reverseSignature: boolean }): void {
  for (const [field, wanted] of Object.entries(fields) as [keyof typeof fields, boolean][]) {
    const present = link[field] !== null;
    if (present !== wanted) fail("malformed_link", link, `a ${link.type} link ${wanted ? "needs" : "must not carry"} ${field}`);
  }
  if ((link.type === "revoke_device" || link.type === "rotate_kem") && link.name !== "")
    fail("malformed_link", link, `a ${link.type} link has an empty name`);
}

function assertNewKey(state: DeviceLogState | null, link: DeviceLink, key: string, kemId: string | null): void {
  for (const d of state?.devices ?? []) {
    if (d.signingKey === key || d.kemKey === key || (kemId !== null && d.retiredKemKeyIds.includes(kemId)))
      fail("duplicate_key", link, `the key is already used by device ${d.deviceId}`);
  }
}

async function verifySignature(link: DeviceLink, signer: CryptoKey, label: string, signature: string, reason: DeviceLogErrorReason) {
  if (!(await verify(signer, label, encodeLinkBody(link), signature)))
    fail(
      reason,
      link,
      reason === "bad_signature"
        ? `the signature by ${link.signerDeviceId} does not verify`
        : `the reverse signature by ${link.deviceId} does not verify`,
    );
}

function withDevice(state: DeviceLogState, deviceId: string, change: (d: DeviceRecord) => DeviceRecord): DeviceRecord[] {
  return state.devices.map((d) => (d.deviceId === deviceId ? change(d) : d));
}

/**
 * Verifies one link against the state of the log so far (null before the root) and returns the
 * new state; the state passed in is never changed. This is the server's check on every append:
 * right `seq` and `prev` (so no fork and no gap), signed by a device active at `seq - 1`, the
 * added device's reverse signature, valid P-256 keys, and the rules of each link type. Anything
 * else throws a DeviceLogError whose `reason` names what failed.
 *
 * `expectedUserId` pins the log's owner for the root (later links must match the root's user).
 */
export async function verifyLink(state: DeviceLogState | null, input: unknown, expectedUserId?: string): Promise<DeviceLogState> {
  const link = parseLink(input);
  const userId = state?.userId ?? expectedUserId;
  if (userId !== undefined && link.userId !== userId) fail("wrong_user", link, `the link belongs to user ${link.userId}, not ${userId}`);

  if (state === null) {
    if (link.type !== "root") fail("not_root", link, "a device log starts with a root link");
    if (link.seq !== 0) fail("wrong_seq", link, "the root link has seq 0");
    if (link.prev !== null) fail("wrong_prev", link, "the root link has no prev");
    if (link.signerDeviceId !== link.deviceId) fail("signer_not_allowed", link, "the root link is signed by the device it adds");
    requireFields(link, { signingKey: true, kemKey: true, reverseSignature: false });
    const signingKey = link.signingKey as string;
    const kemKey = link.kemKey as string;
    const signer = await importKey(link, signingKey, "signing", "the signing key");
    await importKey(link, kemKey, "kem", "the kem key");
    if (signingKey === kemKey) fail("duplicate_key", link, "the signing and kem keys are the same key");
    await verifySignature(link, signer, LINK_SIGNATURE_LABEL, link.signature, "bad_signature");
    const hash = await linkHash(link);
    return {
      userId: link.userId,
      rootHash: hash,
      fingerprint: await userFingerprint(link.userId, hash),
      head: { seq: 0, hash },
      hashes: [hash],
      devices: [
        {
          deviceId: link.deviceId,
          kind: "device",
          name: link.name,
          status: "active",
          signingKey,
          kemKey,
          kemKeyId: await kemKeyId(kemKey),
          retiredKemKeyIds: [],
          addedAt: 0,
          addedBy: link.deviceId,
          revokedAt: null,
          revokedBy: null,
        },
      ],
    };
  }

  if (link.type === "root") fail("duplicate_root", link, "a device log has one root link, at seq 0");
  if (link.seq !== state.head.seq + 1) fail("wrong_seq", link, `expected seq ${state.head.seq + 1} after the head at ${state.head.seq}`);
  if (link.prev !== state.head.hash) fail("wrong_prev", link, `prev is not the hash of link ${state.head.seq}`);

  const signer = findDevice(state, link.signerDeviceId);
  if (!signer) fail("unknown_signer", link, `the signer ${link.signerDeviceId} is not a device of this log`);
  if (signer.status !== "active") fail("revoked_signer", link, `the signer ${link.signerDeviceId} was revoked at link ${signer.revokedAt}`);
  const signerKey = await importKey(link, signer.signingKey, "signing", "the signer's key");
  const target = findDevice(state, link.deviceId);
  const next = (devices: DeviceRecord[]): Promise<DeviceLogState> =>
    linkHash(link).then((hash) => ({ ...state, head: { seq: link.seq, hash }, hashes: [...state.hashes, hash], devices }));

  switch (link.type) {
    case "add_device":
    case "add_recovery": {
      const recovery = link.type === "add_recovery";
      requireFields(link, { signingKey: true, kemKey: !recovery, reverseSignature: true });
      if (target) fail("duplicate_device", link, `device ${link.deviceId} is already in the log (${target.status})`);
      if (recovery && activeSigners(state).some((d) => d.kind === "recovery"))
        fail("recovery_exists", link, "the log already has an active recovery key: revoke it first");
      const signingKey = link.signingKey as string;
      const newSigner = await importKey(link, signingKey, "signing", "the signing key");
      assertNewKey(state, link, signingKey, null);
      let kemId: string | null = null;
      if (!recovery) {
        const kemKey = link.kemKey as string;
        await importKey(link, kemKey, "kem", "the kem key");
        kemId = await kemKeyId(kemKey);
        if (kemKey === signingKey) fail("duplicate_key", link, "the signing and kem keys are the same key");
        assertNewKey(state, link, kemKey, kemId);
      }
      await verifySignature(link, signerKey, LINK_SIGNATURE_LABEL, link.signature, "bad_signature");
      await verifySignature(link, newSigner, LINK_REVERSE_SIGNATURE_LABEL, link.reverseSignature as string, "bad_reverse_signature");
      return next([
        ...state.devices,
        {
          deviceId: link.deviceId,
          kind: recovery ? "recovery" : "device",
          name: link.name,
          status: "active",
          signingKey,
          kemKey: link.kemKey,
          kemKeyId: kemId,
          retiredKemKeyIds: [],
          addedAt: link.seq,
          addedBy: link.signerDeviceId,
          revokedAt: null,
          revokedBy: null,
        },
      ]);
    }
    case "revoke_device": {
      requireFields(link, { signingKey: false, kemKey: false, reverseSignature: false });
      if (!target) fail("unknown_device", link, `device ${link.deviceId} is not in the log`);
      if (target.status === "revoked")
        fail("already_revoked", link, `device ${link.deviceId} was already revoked at link ${target.revokedAt}`);
      if (activeSigners(state).length === 1)
        fail("last_device", link, "revoking the last active key would leave the log with no way to sign");
      await verifySignature(link, signerKey, LINK_SIGNATURE_LABEL, link.signature, "bad_signature");
      return next(
        withDevice(state, link.deviceId, (d) => ({ ...d, status: "revoked", revokedAt: link.seq, revokedBy: link.signerDeviceId })),
      );
    }
    case "rotate_kem": {
      requireFields(link, { signingKey: false, kemKey: true, reverseSignature: false });
      if (!target) fail("unknown_device", link, `device ${link.deviceId} is not in the log`);
      if (target.status === "revoked") fail("already_revoked", link, `device ${link.deviceId} was revoked at link ${target.revokedAt}`);
      if (target.kind !== "device") fail("signer_not_allowed", link, "the recovery key has no kem key to rotate");
      if (link.signerDeviceId !== link.deviceId)
        fail("signer_not_allowed", link, "a device rotates its own kem key (it alone holds the new private key)");
      const kemKey = link.kemKey as string;
      await importKey(link, kemKey, "kem", "the kem key");
      if (kemKey === target.kemKey) fail("same_kem_key", link, "the new kem key is the current one");
      const kemId = await kemKeyId(kemKey);
      assertNewKey(state, link, kemKey, kemId);
      await verifySignature(link, signerKey, LINK_SIGNATURE_LABEL, link.signature, "bad_signature");
      return next(
        withDevice(state, link.deviceId, (d) => ({
          ...d,
          kemKey,
          kemKeyId: kemId,
          retiredKemKeyIds: d.kemKeyId === null ? d.retiredKemKeyIds : [...d.retiredKemKeyIds, d.kemKeyId],
        })),
      );
    }
  }
  return fail("malformed_link", link, "unknown link type");
}

/**
 * Verifies a whole device log from its root and returns what it says. `userId` is the user whose
 * log was asked for: a log of another user is refused. An empty log is an error (`empty_log`).
 */
export async function verifyDeviceLog(links: readonly unknown[], expected: { userId: string }): Promise<DeviceLogState> {
  if (!Array.isArray(links) || links.length === 0)
    throw new DeviceLogError("empty_log", `the device log of user ${expected.userId} is empty`, { userId: expected.userId });
  let state: DeviceLogState | null = null;
  for (const link of links) state = await verifyLink(state, link, expected.userId);
  return state as DeviceLogState;
}

/**
 * Checks that `state` is the log a reader saw before (`pinned`), or an extension of it: the same
 * user fingerprint, a head at least as far, and the same link at the pinned seq. Otherwise the
 * server rolled the log back (`rolled_back`, e.g. to hide a revocation), showed another history
 * (`forked`), or a new root (`fingerprint_changed`).
 */
export function assertLogExtends(pinned: { fingerprint: string; head: { seq: number; hash: string } }, state: DeviceLogState): void {
  const details = { userId: state.userId };
  if (pinned.fingerprint !== state.fingerprint)
    throw new DeviceLogError(
      "fingerprint_changed",
      `the fingerprint of user ${state.userId} changed: this is not the identity seen before`,
      details,
    );
  if (state.head.seq < pinned.head.seq)
    throw new DeviceLogError(
      "rolled_back",
      `the device log of user ${state.userId} ends at link ${state.head.seq}, before link ${pinned.head.seq} seen earlier`,
      details,
    );
  if (state.hashes[pinned.head.seq] !== pinned.head.hash)
    throw new DeviceLogError(
      "forked",
      `the device log of user ${state.userId} differs at link ${pinned.head.seq} from the one seen earlier`,
      {
        ...details,
        seq: pinned.head.seq,
      },
    );
}
