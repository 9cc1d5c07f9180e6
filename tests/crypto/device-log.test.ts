import {
  activeDevices,
  activeRecoveryKey,
  assertLogExtends,
  createAddDeviceLink,
  createRevokeLink,
  createRootLink,
  createRotateKemLink,
  type DeviceKeys,
  type DeviceLink,
  DeviceLogError,
  type DeviceLogState,
  fromBase64url,
  generateDeviceKeys,
  generateKemKey,
  linkHash,
  reverseSignLink,
  revokedDeviceIds,
  signLink,
  toBase64url,
  unsignedLink,
  userFingerprint,
  verifyDeviceLog,
  verifyLink,
} from "@osmynt/sdk/crypto";
import { beforeAll, describe, expect, it } from "vitest";

const userId = "usr_alice";

async function recoveryKeys(): Promise<DeviceKeys> {
  const keys = await generateDeviceKeys();
  return { ...keys, kind: "recovery", kem: null, kemPublicKey: null };
}

/** Expects `promise` to fail with a DeviceLogError of `reason`, and returns it. */
async function rejection(promise: Promise<unknown>, reason: string): Promise<DeviceLogError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected a DeviceLogError ${reason}, but it verified`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DeviceLogError);
  expect((error as DeviceLogError).reason).toBe(reason);
  expect((error as DeviceLogError).message.length).toBeGreaterThan(20);
  return error as DeviceLogError;
}

/** A JSON round trip, as a link travels through tRPC and the database. */
const wire = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

let laptop: DeviceKeys;
let desktop: DeviceKeys;
let phone: DeviceKeys;
let recovery: DeviceKeys;
let root: DeviceLink;
let rootState: DeviceLogState;
let twoDevices: DeviceLogState;
let addDesktop: DeviceLink;

beforeAll(async () => {
  [laptop, desktop, phone, recovery] = await Promise.all([
    generateDeviceKeys(),
    generateDeviceKeys(),
    generateDeviceKeys(),
    recoveryKeys(),
  ]);
  root = await createRootLink(userId, laptop, { name: "laptop" });
  rootState = await verifyLink(null, wire(root), userId);
  addDesktop = await createAddDeviceLink(rootState, laptop, desktop, { name: "desktop" });
  twoDevices = await verifyLink(rootState, wire(addDesktop));
});

describe("a device log that verifies", () => {
  it("starts at a self-signed root and derives the user fingerprint from it", async () => {
    expect(rootState.userId).toBe(userId);
    expect(rootState.head).toEqual({ seq: 0, hash: await linkHash(root) });
    expect(rootState.rootHash).toBe(rootState.head.hash);
    expect(rootState.fingerprint).toBe(await userFingerprint(userId, rootState.rootHash));
    expect(fromBase64url(rootState.fingerprint)).toHaveLength(32);
    expect(activeDevices(rootState).map((d) => [d.deviceId, d.name, d.signingKey, d.kemKey])).toEqual([
      [laptop.deviceId, "laptop", laptop.signingPublicKey, laptop.kemPublicKey],
    ]);
  });

  it("goes through every link type, and the whole log gives the same state as link by link", async () => {
    const addRecovery = await createAddDeviceLink(twoDevices, desktop, recovery);
    const withRecovery = await verifyLink(twoDevices, addRecovery);
    const newKem = await generateKemKey();
    const rotate = await createRotateKemLink(withRecovery, desktop, newKem.kemPublicKey);
    const rotated = await verifyLink(withRecovery, rotate);
    const revoke = await createRevokeLink(rotated, recovery, laptop.deviceId);
    const revoked = await verifyLink(rotated, revoke);
    const addPhone = await createAddDeviceLink(revoked, recovery, phone, { name: "phone" });
    const final = await verifyLink(revoked, addPhone);

    const whole = await verifyDeviceLog(wire([root, addDesktop, addRecovery, rotate, revoke, addPhone]), { userId });
    expect(whole).toEqual(final);
    expect(whole.head.seq).toBe(5);
    expect(whole.hashes).toHaveLength(6);
    expect(whole.fingerprint).toBe(rootState.fingerprint);
    expect(activeDevices(whole).map((d) => d.deviceId)).toEqual([desktop.deviceId, phone.deviceId]);
    expect(revokedDeviceIds(whole)).toEqual([laptop.deviceId]);
    expect(activeRecoveryKey(whole)?.signingKey).toBe(recovery.signingPublicKey);
    expect(activeRecoveryKey(whole)?.kemKey).toBeNull();
    const desktopRecord = whole.devices.find((d) => d.deviceId === desktop.deviceId);
    expect(desktopRecord?.kemKey).toBe(newKem.kemPublicKey);
    expect(desktopRecord?.retiredKemKeyIds).toEqual([twoDevices.devices[1]?.kemKeyId]);
    expect(whole.devices.find((d) => d.deviceId === laptop.deviceId)).toMatchObject({
      status: "revoked",
      revokedAt: 4,
      revokedBy: recovery.deviceId,
    });
  });

  it("is signed in two halves when the new device is elsewhere (pairing)", async () => {
    // The new device builds the same body from the head the existing device confirmed, and reverse-signs it.
    const fields = {
      type: "add_device" as const,
      deviceId: phone.deviceId,
      signerDeviceId: laptop.deviceId,
      signingKey: phone.signingPublicKey,
      kemKey: phone.kemPublicKey,
      name: "phone",
      createdAt: 1_700_000_000_000,
    };
    const onPhone = unsignedLink({ userId, head: twoDevices.head }, fields);
    const reverse = await reverseSignLink(onPhone, phone);
    const link = await signLink(unsignedLink(twoDevices, fields), laptop, reverse);
    const state = await verifyLink(twoDevices, wire(link));
    expect(activeDevices(state).map((d) => d.deviceId)).toContain(phone.deviceId);
  });

  it("hashes the body only, so the same link with a re-encoded (malleated) signature keeps its hash", async () => {
    const other = await signLink(addDesktop, laptop, addDesktop.reverseSignature);
    expect(other.signature).not.toBe(addDesktop.signature); // ECDSA is randomised
    expect(await linkHash(other)).toBe(await linkHash(addDesktop));
    expect((await verifyLink(rootState, other)).head).toEqual(twoDevices.head);
  });

  it("ignores fields a transport adds, and keeps the state it was given unchanged", async () => {
    const before = structuredClone(twoDevices);
    const link = { ...(await createRevokeLink(twoDevices, desktop, laptop.deviceId)), storedAt: "2026-12-01" };
    await verifyLink(twoDevices, link);
    await rejection(verifyLink(twoDevices, { ...link, name: "sneaky" }), "malformed_link");
    expect(twoDevices).toEqual(before);
  });
});

describe("a device log that does not verify names what failed", () => {
  it("a link whose signed content was changed (bad_signature)", async () => {
    const error = await rejection(verifyLink(rootState, { ...addDesktop, name: "attacker" }), "bad_signature");
    expect(error.seq).toBe(1);
    expect(error.message).toContain(laptop.deviceId);
    await rejection(verifyLink(rootState, { ...addDesktop, createdAt: addDesktop.createdAt + 1 }), "bad_signature");
    await rejection(verifyLink(null, { ...root, name: "other" }), "bad_signature");
  });

  it("a rogue device added by the server, which has no device's private key (bad_signature)", async () => {
    const rogue = await generateDeviceKeys();
    // Signed by a key the server controls but claiming to come from the laptop.
    const body = unsignedLink(rootState, {
      type: "add_device",
      deviceId: rogue.deviceId,
      signerDeviceId: laptop.deviceId,
      signingKey: rogue.signingPublicKey,
      kemKey: rogue.kemPublicKey,
    });
    const forged = await signLink(body, rogue, await reverseSignLink(body, rogue));
    await rejection(verifyLink(rootState, forged), "bad_signature");
  });

  it("a device key swapped in an existing link (bad_signature)", async () => {
    const swapped = await generateDeviceKeys();
    await rejection(verifyLink(rootState, { ...addDesktop, kemKey: swapped.kemPublicKey }), "bad_signature");
    await rejection(verifyLink(rootState, { ...addDesktop, signingKey: swapped.signingPublicKey }), "bad_signature");
  });

  it("an added device that did not sign (bad_reverse_signature, missing or by another key or label)", async () => {
    await rejection(verifyLink(rootState, { ...addDesktop, reverseSignature: null }), "malformed_link");
    const wrongKey = await reverseSignLink(addDesktop, phone);
    await rejection(verifyLink(rootState, { ...addDesktop, reverseSignature: wrongKey }), "bad_reverse_signature");
    // The signer's own signature is made under another label, so it is no reverse signature.
    const body = unsignedLink(rootState, {
      type: "add_device",
      deviceId: phone.deviceId,
      signerDeviceId: laptop.deviceId,
      signingKey: phone.signingPublicKey,
      kemKey: phone.kemPublicKey,
    });
    const signed = await signLink(body, laptop, null);
    await rejection(verifyLink(rootState, { ...signed, reverseSignature: signed.signature }), "bad_reverse_signature");
  });

  it("wrong seq, wrong prev, reordered, truncated or forked logs", async () => {
    await rejection(verifyLink(rootState, { ...addDesktop, seq: 2 }), "wrong_seq");
    await rejection(verifyLink(rootState, { ...addDesktop, prev: toBase64url(new Uint8Array(32)) }), "wrong_prev");
    const revoke = await createRevokeLink(twoDevices, desktop, laptop.deviceId);
    await rejection(verifyDeviceLog([root, revoke, addDesktop], { userId }), "wrong_seq");
    await rejection(verifyDeviceLog([addDesktop, root], { userId }), "not_root");
    await rejection(verifyDeviceLog([root, addDesktop, root], { userId }), "duplicate_root");
    await rejection(verifyDeviceLog([], { userId }), "empty_log");
    // A second link at seq 1 (a fork) does not extend the state the server already accepted.
    const fork = await createAddDeviceLink(rootState, laptop, phone);
    await rejection(verifyLink(twoDevices, fork), "wrong_seq");
    await rejection(verifyLink(twoDevices, { ...fork, seq: 2 }), "wrong_prev");
  });

  it("rollback, fork and fingerprint change against what a reader pinned", async () => {
    const revoke = await createRevokeLink(twoDevices, desktop, laptop.deviceId);
    const current = await verifyDeviceLog([root, addDesktop, revoke], { userId });
    const pinned = { fingerprint: current.fingerprint, head: current.head };
    assertLogExtends(pinned, current);
    assertLogExtends({ fingerprint: rootState.fingerprint, head: rootState.head }, current);
    // Revocation dropped: the server serves the log without its last link.
    await rejection(
      Promise.resolve().then(() => assertLogExtends(pinned, twoDevices)),
      "rolled_back",
    );
    const other = await verifyDeviceLog([root, addDesktop, await createAddDeviceLink(twoDevices, desktop, phone)], { userId });
    await rejection(
      Promise.resolve().then(() => assertLogExtends(pinned, other)),
      "forked",
    );
    const newRoot = await verifyDeviceLog([await createRootLink(userId, phone)], { userId });
    const changed = await rejection(
      Promise.resolve().then(() => assertLogExtends(pinned, newRoot)),
      "fingerprint_changed",
    );
    expect(changed.message).toContain(userId);
  });

  it("signers that are unknown or revoked, and signers a link type does not allow", async () => {
    await rejection(verifyLink(rootState, await createAddDeviceLink(rootState, phone, desktop)), "unknown_signer");
    const revoked = await verifyLink(twoDevices, await createRevokeLink(twoDevices, desktop, laptop.deviceId));
    await rejection(verifyLink(revoked, await createAddDeviceLink(revoked, laptop, phone)), "revoked_signer");
    const kem = await generateKemKey();
    const byOther = await signLink(
      unsignedLink(twoDevices, {
        type: "rotate_kem",
        deviceId: laptop.deviceId,
        signerDeviceId: desktop.deviceId,
        kemKey: kem.kemPublicKey,
      }),
      desktop,
    );
    await rejection(verifyLink(twoDevices, byOther), "signer_not_allowed");
    const otherRoot = await signLink(
      unsignedLink(
        { userId, head: null },
        {
          type: "root",
          deviceId: laptop.deviceId,
          signerDeviceId: desktop.deviceId,
          signingKey: laptop.signingPublicKey,
          kemKey: laptop.kemPublicKey,
        },
      ),
      desktop,
    );
    await rejection(verifyLink(null, otherRoot), "signer_not_allowed");
  });

  it("devices added twice, keys reused, unknown or already revoked targets, the last key, a second recovery key", async () => {
    await rejection(verifyLink(twoDevices, await createAddDeviceLink(twoDevices, laptop, desktop)), "duplicate_device");
    const reuse = { ...phone, signingPublicKey: desktop.signingPublicKey, signing: desktop.signing };
    await rejection(verifyLink(twoDevices, await createAddDeviceLink(twoDevices, laptop, reuse)), "duplicate_key");
    await rejection(verifyLink(twoDevices, await createRevokeLink(twoDevices, laptop, "dev_nobody")), "unknown_device");
    await rejection(verifyLink(rootState, await createRevokeLink(rootState, laptop, laptop.deviceId)), "last_device");
    const revoked = await verifyLink(twoDevices, await createRevokeLink(twoDevices, desktop, laptop.deviceId));
    await rejection(verifyLink(revoked, await createRevokeLink(revoked, desktop, laptop.deviceId)), "already_revoked");
    await rejection(verifyLink(revoked, await createAddDeviceLink(revoked, desktop, laptop)), "duplicate_device");
    const withRecovery = await verifyLink(twoDevices, await createAddDeviceLink(twoDevices, laptop, recovery));
    await rejection(verifyLink(withRecovery, await createAddDeviceLink(withRecovery, laptop, await recoveryKeys())), "recovery_exists");
    await rejection(
      verifyLink(withRecovery, await createRotateKemLink(withRecovery, recovery, laptop.kemPublicKey as string)),
      "signer_not_allowed",
    );
  });

  it("rotations to the current key or to a key used before", async () => {
    await rejection(verifyLink(twoDevices, await createRotateKemLink(twoDevices, desktop, desktop.kemPublicKey as string)), "same_kem_key");
    await rejection(verifyLink(twoDevices, await createRotateKemLink(twoDevices, desktop, laptop.kemPublicKey as string)), "duplicate_key");
    const first = await generateKemKey();
    const rotated = await verifyLink(twoDevices, await createRotateKemLink(twoDevices, desktop, first.kemPublicKey));
    const second = await generateKemKey();
    const again = await verifyLink(rotated, await createRotateKemLink(rotated, desktop, second.kemPublicKey));
    await rejection(verifyLink(again, await createRotateKemLink(again, desktop, first.kemPublicKey)), "duplicate_key");
  });

  it("another user's log, or a link for another user", async () => {
    await rejection(verifyDeviceLog([root], { userId: "usr_bob" }), "wrong_user");
    const bobRoot = await createRootLink("usr_bob", desktop);
    await rejection(verifyLink(null, bobRoot, userId), "wrong_user");
    const forBob = await signLink(
      { ...addDesktop, userId: "usr_bob" },
      laptop,
      await reverseSignLink({ ...addDesktop, userId: "usr_bob" }, desktop),
    );
    await rejection(verifyLink(rootState, forBob), "wrong_user");
  });

  it("keys on another curve, off the curve, compressed, oversized or malformed (bad_key)", async () => {
    const p384 = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" }, true, ["sign"]);
    const p384Raw = toBase64url(new Uint8Array(await crypto.subtle.exportKey("raw", p384.publicKey)));
    const offCurve = fromBase64url(phone.kemPublicKey as string);
    offCurve[64] = (offCurve[64] ?? 0) ^ 1;
    const compressed = fromBase64url(phone.kemPublicKey as string).slice(0, 33);
    compressed[0] = 2;
    const cases: [string, string][] = [
      [p384Raw, "P-384"],
      [toBase64url(offCurve), "not a point on the P-256 curve"],
      [toBase64url(compressed), "compressed"],
      [toBase64url(new Uint8Array(64)), "65 bytes"],
      [toBase64url(new Uint8Array(150)), "150 bytes"],
    ];
    for (const [key, words] of cases) {
      for (const field of ["signingKey", "kemKey"] as const) {
        const body = unsignedLink(rootState, {
          type: "add_device",
          deviceId: phone.deviceId,
          signerDeviceId: laptop.deviceId,
          signingKey: phone.signingPublicKey,
          kemKey: phone.kemPublicKey,
          [field]: key,
        });
        const link = await signLink(body, laptop, await reverseSignLink(body, phone));
        const error = await rejection(verifyLink(rootState, link), "bad_key");
        expect(error.message).toContain(words);
      }
    }
    await rejection(verifyLink(rootState, { ...addDesktop, kemKey: "a".repeat(300) }), "malformed_link");
    await rejection(verifyLink(rootState, { ...addDesktop, kemKey: "not base64!" }), "malformed_link");
  });

  it("malformed links: wrong types, missing fields, unknown version, suite or type", async () => {
    await rejection(verifyLink(rootState, { ...addDesktop, v: 2 }), "unsupported_version");
    await rejection(verifyLink(rootState, { ...addDesktop, suite: "SNIP1-X25519-Ed25519" }), "unsupported_suite");
    await rejection(verifyLink(rootState, { ...addDesktop, type: "add_admin" }), "malformed_link");
    await rejection(verifyLink(rootState, { ...addDesktop, seq: "1" }), "malformed_link");
    await rejection(verifyLink(rootState, { ...addDesktop, seq: 1.5 }), "malformed_link");
    await rejection(verifyLink(rootState, { ...addDesktop, deviceId: "" }), "malformed_link");
    await rejection(verifyLink(rootState, { ...addDesktop, deviceId: "x".repeat(129) }), "malformed_link");
    await rejection(verifyLink(rootState, { ...addDesktop, name: "é".repeat(65) }), "malformed_link");
    await rejection(verifyLink(rootState, { ...addDesktop, signature: undefined }), "malformed_link");
    await rejection(verifyLink(rootState, null), "malformed_link");
    await rejection(verifyLink(rootState, [addDesktop]), "malformed_link");
    const shortSignature = { ...addDesktop, signature: toBase64url(new Uint8Array(10)) };
    await rejection(verifyLink(rootState, shortSignature), "bad_signature");
    const revoke = await createRevokeLink(twoDevices, desktop, laptop.deviceId);
    await rejection(verifyLink(twoDevices, { ...revoke, kemKey: phone.kemPublicKey }), "malformed_link");
  });
});
