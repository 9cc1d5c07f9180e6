import {
  createAddDeviceLink,
  createRevokeLink,
  createRootLink,
  createRotateKemLink,
  type DeviceKeys,
  type DeviceLogState,
  encodeManifest,
  forwardShare,
  fromBase64url,
  generateDeviceKeys,
  generateKemKey,
  importPublicKey,
  MANIFEST_SIGNATURE_LABEL,
  openShare,
  paddedLength,
  type RecipientWrap,
  type ShareEnvelope,
  ShareError,
  sealShare,
  shareHpke,
  sign,
  toBase64url,
  verifyLink,
  verifyShareSignature,
  wrapHash,
  wrapInfo,
} from "@osmynt/sdk/crypto";
import { beforeAll, describe, expect, it } from "vitest";

const text = (s: string) => new TextEncoder().encode(s);
const wire = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const team = { teamId: "tm_crypto" };

interface User {
  userId: string;
  devices: DeviceKeys[];
  log: DeviceLogState;
}

async function user(userId: string, count: number): Promise<User> {
  const devices = await Promise.all(Array.from({ length: count }, () => generateDeviceKeys()));
  const [first, ...rest] = devices as [DeviceKeys, ...DeviceKeys[]];
  let log = await verifyLink(null, await createRootLink(userId, first), userId);
  for (const d of rest) log = await verifyLink(log, await createAddDeviceLink(log, first, d));
  return { userId, devices, log };
}

const me = (u: User, i = 0) => ({ userId: u.userId, keys: u.devices[i] as DeviceKeys, log: u.log });
const wrapFor = (wraps: RecipientWrap[], device: DeviceKeys) => wraps.find((w) => w.deviceId === device.deviceId);

async function failure(promise: Promise<unknown>, reason: string): Promise<ShareError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected ShareError ${reason}, but it opened`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ShareError);
  expect((error as ShareError).reason).toBe(reason);
  return error as ShareError;
}

/** Re-signs a manifest with the sender's real key: what a malicious *sender* (an insider) can do, unlike the server. */
async function resign(envelope: ShareEnvelope, signer: DeviceKeys): Promise<ShareEnvelope> {
  return { ...envelope, signature: await sign(signer.signing.privateKey, MANIFEST_SIGNATURE_LABEL, encodeManifest(envelope.manifest)) };
}

let alice: User;
let bob: User;
let carol: User;
let envelope: ShareEnvelope;
let wraps: RecipientWrap[];
const code = "export const answer = 42; // secret snippet";

beforeAll(async () => {
  [alice, bob, carol] = await Promise.all([user("usr_alice", 2), user("usr_bob", 1), user("usr_carol", 1)]);
  ({ envelope, wraps } = wire(
    await sealShare({ sender: me(alice), target: team, shareId: "shr_one", recipients: [bob.log], plaintext: text(code) }),
  ));
});

function open(reader: { userId: string; keys: DeviceKeys; log: DeviceLogState }, overrides: Record<string, unknown> = {}) {
  return openShare({
    envelope,
    wrap: wrapFor(wraps, reader.keys),
    me: reader,
    senderLog: alice.log,
    expected: { shareId: "shr_one", target: team },
    ...overrides,
  });
}

describe("a share", () => {
  it("opens on every recipient device, the sender's other devices included, and on the sender's own", async () => {
    expect(wraps.map((w) => w.deviceId).sort()).toEqual([...alice.devices, ...bob.devices].map((d) => d.deviceId).sort());
    for (const reader of [me(bob), me(alice, 1), me(alice, 0)]) {
      const opened = await open(reader);
      expect(new TextDecoder().decode(opened.plaintext)).toBe(code);
      expect(opened.warnings).toEqual([]);
    }
    expect(envelope.manifest.recipients).toHaveLength(3);
    expect(fromBase64url(envelope.ciphertext)).toHaveLength(paddedLength(text(code).length) + 16);
    expect(JSON.stringify(envelope)).not.toContain("secret");
  });

  it("a direct share, and a large one (1 MiB)", async () => {
    const big = crypto.getRandomValues(new Uint8Array(65536)).map((b) => b % 64);
    const large = new Uint8Array(1024 * 1024 - 1024);
    for (let i = 0; i < large.length; i += big.length) large.set(big.subarray(0, Math.min(big.length, large.length - i)), i);
    const sealed = await sealShare({
      sender: me(alice),
      target: { userId: bob.userId },
      shareId: "shr_direct",
      recipients: [bob.log],
      plaintext: large,
    });
    expect(fromBase64url(sealed.envelope.ciphertext).length).toBeLessThanOrEqual(1024 * 1024 + 16);
    const opened = await openShare({
      envelope: sealed.envelope,
      wrap: wrapFor(sealed.wraps, bob.devices[0] as DeviceKeys),
      me: me(bob),
      senderLog: alice.log,
      expected: { shareId: "shr_direct", target: { userId: bob.userId } },
    });
    expect(Buffer.from(opened.plaintext).equals(Buffer.from(large))).toBe(true);
  });

  it("checks on upload: the sender's signature against its log (what the server can verify)", async () => {
    expect((await verifyShareSignature(envelope, alice.log)).manifest.shareId).toBe("shr_one");
    await failure(verifyShareSignature({ ...envelope, manifest: { ...envelope.manifest, createdAt: 1 } }, alice.log), "bad_signature");
    await failure(verifyShareSignature(envelope, bob.log), "wrong_sender");
  });
});

describe("a tampered share never opens, and the error names what was changed", () => {
  it("ciphertext changed in the database", async () => {
    const c = fromBase64url(envelope.ciphertext);
    c[5] = (c[5] ?? 0) ^ 1;
    await failure(open(me(bob), { envelope: { ...envelope, ciphertext: toBase64url(c) } }), "ciphertext_mismatch");
    await failure(open(me(bob), { envelope: { ...envelope, ciphertext: toBase64url(c.slice(0, 100)) } }), "ciphertext_mismatch");
  });

  it("manifest changed: recipients, target, author, ids, times", async () => {
    const m = envelope.manifest;
    for (const manifest of [
      { ...m, recipients: m.recipients.filter((r) => r.userId !== alice.userId) },
      { ...m, senderDeviceId: alice.devices[1]?.deviceId },
      { ...m, createdAt: m.createdAt + 1 },
      { ...m, expiresAt: m.createdAt + 1000 },
    ])
      await failure(open(me(bob), { envelope: { ...envelope, manifest } }), "bad_signature");
    await failure(open(me(bob), { envelope: { ...envelope, manifest: { ...m, senderUserId: bob.userId } } }), "wrong_sender");
    await failure(open(me(bob), { envelope: { ...envelope, manifest: { ...m, shareId: "shr_two" } } }), "wrong_share");
    await failure(open(me(bob), { expected: { shareId: "shr_one", target: { teamId: "tm_other" } } }), "wrong_target");
    const moved = { ...envelope, manifest: { ...m, target: { teamId: "tm_other" } } };
    await failure(open(me(bob), { envelope: moved }), "wrong_target");
    await failure(open(me(bob), { envelope: moved, expected: { shareId: "shr_one" } }), "bad_signature");
    await failure(open(me(bob), { envelope: { ...envelope, nonce: toBase64url(new Uint8Array(12)) } }), "ciphertext_mismatch");
  });

  it("author claimed to be another user or device: wrong sender log, unknown or revoked sender device", async () => {
    await failure(open(me(bob), { senderLog: carol.log }), "wrong_sender");
    const revokedLog = await verifyLink(
      alice.log,
      await createRevokeLink(alice.log, alice.devices[1] as DeviceKeys, alice.devices[0]?.deviceId as string),
    );
    await failure(open(me(bob), { senderLog: revokedLog }), "sender_revoked");
    const forkedAlice = await user("usr_alice", 1);
    await failure(open(me(bob), { senderLog: forkedAlice.log }), "unknown_sender_device");
  });

  it("wrapped key changed, or another device's wrap served", async () => {
    const mine = wrapFor(wraps, bob.devices[0] as DeviceKeys) as RecipientWrap;
    const w = fromBase64url(mine.wrappedKey);
    w[0] = (w[0] ?? 0) ^ 1;
    await failure(open(me(bob), { wrap: { ...mine, wrappedKey: toBase64url(w) } }), "wrap_mismatch");
    await failure(open(me(bob), { wrap: wrapFor(wraps, alice.devices[1] as DeviceKeys) }), "wrap_mismatch");
    await failure(
      open(me(bob), {
        wrap: { ...wrapFor(wraps, alice.devices[1] as DeviceKeys), userId: bob.userId, deviceId: bob.devices[0]?.deviceId },
      }),
      "wrap_mismatch",
    );
  });

  it("someone who is not a recipient, even holding a recipient's wrap", async () => {
    await failure(open(me(carol), { wrap: wrapFor(wraps, bob.devices[0] as DeviceKeys) }), "not_a_recipient");
  });

  it("malformed input: bad base64, wrong sizes, unknown suite, unsorted or duplicate recipients", async () => {
    const m = envelope.manifest;
    const [first, second] = m.recipients;
    for (const bad of [
      { ...envelope, ciphertext: "not base64!" },
      { ...envelope, signature: toBase64url(new Uint8Array(70)) },
      { ...envelope, manifest: { ...m, recipients: [second, first, ...m.recipients.slice(2)] } },
      { ...envelope, manifest: { ...m, recipients: [first, first] } },
      { ...envelope, manifest: { ...m, recipients: [] } },
      { ...envelope, manifest: { ...m, target: { teamId: "tm", userId: "usr" } } },
      { ...envelope, manifest: { ...m, version: 0 } },
      null,
    ])
      await failure(open(me(bob), { envelope: bad }), "malformed_envelope");
    await failure(open(me(bob), { envelope: { ...envelope, suite: "SNIP1-X25519-Ed25519" } }), "unsupported_suite");
    await failure(open(me(bob), { envelope: { ...envelope, manifest: { ...m, v: 2 } } }), "unsupported_version");
  });
});

describe("a malicious sender (an insider with a real device key) is caught too", () => {
  it("handing one recipient another key for the same ciphertext (invisible salamanders): key commitment", async () => {
    const other = crypto.getRandomValues(new Uint8Array(32));
    const m = envelope.manifest;
    const bobDevice = bob.devices[0] as DeviceKeys;
    const context = {
      suite: m.suite,
      target: m.target,
      shareId: m.shareId,
      version: m.version,
      senderUserId: m.senderUserId,
      senderDeviceId: m.senderDeviceId,
    };
    const info = await wrapInfo(
      context,
      { userId: bob.userId, deviceId: bobDevice.deviceId, kemPublicKey: fromBase64url(bobDevice.kemPublicKey as string) },
      fromBase64url(m.ciphertextHash),
    );
    const sealed = await shareHpke.seal({
      recipientPublicKey: await importPublicKey(bobDevice.kemPublicKey as string, "kem"),
      info,
      plaintext: other,
    });
    const wrap = {
      ...(wrapFor(wraps, bobDevice) as RecipientWrap),
      enc: toBase64url(sealed.enc),
      wrappedKey: toBase64url(sealed.ciphertext),
    };
    const recipients = m.recipients.map((r) => (r.deviceId === bobDevice.deviceId ? { ...r, wrapHash: "" } : r));
    const entry = recipients.find((r) => r.deviceId === bobDevice.deviceId);
    if (entry) entry.wrapHash = await wrapHash(sealed.enc, sealed.ciphertext);
    const forged = await resign({ ...envelope, manifest: { ...m, recipients } }, alice.devices[0] as DeviceKeys);
    await failure(open(me(bob), { envelope: forged, wrap }), "key_commitment_mismatch");
  });

  it("a key wrapped for another context (share id) does not unwrap", async () => {
    const m = envelope.manifest;
    const bobDevice = bob.devices[0] as DeviceKeys;
    const context = {
      suite: m.suite,
      target: m.target,
      shareId: "shr_elsewhere",
      version: m.version,
      senderUserId: m.senderUserId,
      senderDeviceId: m.senderDeviceId,
    };
    const info = await wrapInfo(
      context,
      { userId: bob.userId, deviceId: bobDevice.deviceId, kemPublicKey: fromBase64url(bobDevice.kemPublicKey as string) },
      fromBase64url(m.ciphertextHash),
    );
    const sealed = await shareHpke.seal({
      recipientPublicKey: await importPublicKey(bobDevice.kemPublicKey as string, "kem"),
      info,
      plaintext: new Uint8Array(32),
    });
    const wrap = {
      ...(wrapFor(wraps, bobDevice) as RecipientWrap),
      enc: toBase64url(sealed.enc),
      wrappedKey: toBase64url(sealed.ciphertext),
    };
    const recipients = await Promise.all(
      m.recipients.map(async (r) =>
        r.deviceId === bobDevice.deviceId ? { ...r, wrapHash: await wrapHash(sealed.enc, sealed.ciphertext) } : r,
      ),
    );
    const forged = await resign({ ...envelope, manifest: { ...m, recipients } }, alice.devices[0] as DeviceKeys);
    await failure(open(me(bob), { envelope: forged, wrap }), "unwrap_failed");
  });
});

describe("device changes", () => {
  it("never encrypts to a revoked device or a rotated-away key; an old key cannot open new shares", async () => {
    const [laptop, desktop] = alice.devices as [DeviceKeys, DeviceKeys];
    const revoked = await verifyLink(alice.log, await createRevokeLink(alice.log, laptop, desktop.deviceId));
    const sealed = await sealShare({
      sender: { userId: alice.userId, keys: laptop, log: revoked },
      target: team,
      shareId: "shr_after_revoke",
      recipients: [bob.log],
      plaintext: text("x"),
    });
    expect(sealed.wraps.map((w) => w.deviceId)).not.toContain(desktop.deviceId);
    await failure(
      sealShare({
        sender: { userId: alice.userId, keys: desktop, log: revoked },
        target: team,
        shareId: "shr_x",
        recipients: [],
        plaintext: text("x"),
      }),
      "sender_revoked",
    );

    const bobDevice = bob.devices[0] as DeviceKeys;
    const newKem = await generateKemKey();
    const rotated = await verifyLink(bob.log, await createRotateKemLink(bob.log, bobDevice, newKem.kemPublicKey));
    const afterRotation = await sealShare({
      sender: me(alice),
      target: team,
      shareId: "shr_rotated",
      recipients: [rotated],
      plaintext: text("y"),
    });
    const bobWrap = wrapFor(afterRotation.wraps, bobDevice) as RecipientWrap;
    expect(bobWrap.kemKeyId).toBe(rotated.devices[0]?.kemKeyId);
    const args = { envelope: afterRotation.envelope, wrap: bobWrap, senderLog: alice.log, expected: { shareId: "shr_rotated" } };
    await failure(openShare({ ...args, me: { userId: bob.userId, keys: bobDevice, log: rotated } }), "wrong_kem_key");
    const newKeys = { ...bobDevice, kem: newKem.kem, kemPublicKey: newKem.kemPublicKey };
    expect(
      new TextDecoder().decode((await openShare({ ...args, me: { userId: bob.userId, keys: newKeys, log: rotated } })).plaintext),
    ).toBe("y");
  });

  it("a device the server slipped into my list is detected; a stale own log asks for a refresh", async () => {
    const bobDevice = bob.devices[0] as DeviceKeys;
    const [phone, tablet] = await Promise.all([generateDeviceKeys(), generateDeviceKeys()]);
    const withPhone = await verifyLink(bob.log, await createAddDeviceLink(bob.log, bobDevice, phone));
    const withTablet = await verifyLink(bob.log, await createAddDeviceLink(bob.log, bobDevice, tablet));
    // Alice was shown a fork of Bob's log (with a tablet Bob's view does not have).
    const sealed = await sealShare({
      sender: me(alice),
      target: team,
      shareId: "shr_fork",
      recipients: [withTablet],
      plaintext: text("z"),
    });
    const args = {
      envelope: sealed.envelope,
      wrap: wrapFor(sealed.wraps, bobDevice),
      senderLog: alice.log,
      expected: { shareId: "shr_fork" },
    };
    await failure(openShare({ ...args, me: { userId: bob.userId, keys: bobDevice, log: withPhone } }), "unknown_own_device");
    await failure(openShare({ ...args, me: { userId: bob.userId, keys: bobDevice, log: bob.log } }), "stale_own_log");
    expect((await openShare({ ...args, me: { userId: bob.userId, keys: bobDevice, log: withTablet } })).plaintext).toEqual(text("z"));
  });

  it("a sender log newer than the reader's view asks for a refresh", async () => {
    const [laptop] = alice.devices as [DeviceKeys];
    const extra = await generateDeviceKeys();
    const longer = await verifyLink(alice.log, await createAddDeviceLink(alice.log, laptop, extra));
    const sealed = await sealShare({
      sender: { userId: alice.userId, keys: laptop, log: longer },
      target: team,
      shareId: "shr_new",
      recipients: [bob.log],
      plaintext: text("n"),
    });
    const args = {
      envelope: sealed.envelope,
      wrap: wrapFor(sealed.wraps, bob.devices[0] as DeviceKeys),
      me: me(bob),
      expected: { shareId: "shr_new" },
    };
    await failure(openShare({ ...args, senderLog: alice.log }), "stale_sender_log");
    expect((await openShare({ ...args, senderLog: longer })).plaintext).toEqual(text("n"));
  });

  it("backfill: a recipient forwards the key to its new device, which opens the old share; a changed forward does not open", async () => {
    const bobDevice = bob.devices[0] as DeviceKeys;
    const newDevice = await generateDeviceKeys();
    const bobNow = await verifyLink(bob.log, await createAddDeviceLink(bob.log, bobDevice, newDevice));
    const { forward, wraps: forwarded } = wire(
      await forwardShare({
        envelope,
        wrap: wrapFor(wraps, bobDevice),
        me: { userId: bob.userId, keys: bobDevice, log: bobNow },
        senderLog: alice.log,
        expected: { shareId: "shr_one" },
        to: [bobNow],
      }),
    );
    expect(forwarded.map((w) => w.deviceId)).toEqual([newDevice.deviceId]);
    const reader = { userId: bob.userId, keys: newDevice, log: bobNow };
    const args = { envelope, wrap: forwarded[0], me: reader, senderLog: alice.log, expected: { shareId: "shr_one" } };
    const opened = await openShare({ ...args, forward: { record: forward, forwarderLog: bobNow } });
    expect(new TextDecoder().decode(opened.plaintext)).toBe(code);
    await failure(openShare(args), "not_a_recipient");
    await failure(openShare({ ...args, forward: { record: { ...forward, createdAt: 1 }, forwarderLog: bobNow } }), "bad_signature");
    await failure(openShare({ ...args, forward: { record: { ...forward, shareId: "shr_two" }, forwarderLog: bobNow } }), "bad_forward");
    await failure(openShare({ ...args, forward: { record: forward, forwarderLog: carol.log } }), "wrong_sender");
    // Carol (never a recipient) cannot forward what she cannot open.
    await failure(
      forwardShare({
        envelope,
        wrap: wrapFor(wraps, bobDevice),
        me: me(carol),
        senderLog: alice.log,
        expected: { shareId: "shr_one" },
        to: [carol.log],
      }),
      "not_a_recipient",
    );
  });
});
