import {
  createAddDeviceLink,
  createPairingOffer,
  createRootLink,
  type DeviceKeys,
  type DeviceLogState,
  existingDeviceMac,
  existingDeviceSession,
  generateDeviceKeys,
  newDeviceMac,
  newDeviceSession,
  PairingError,
  respondToPairingOffer,
  revealPairingKey,
  reverseSignLink,
  sameSasCode,
  signLink,
  unsignedLink,
  verifyExistingDeviceMac,
  verifyLink,
  verifyNewDeviceMac,
} from "@osmynt/sdk/crypto";
import { beforeAll, describe, expect, it } from "vitest";

const userId = "usr_pair";
const wire = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

async function pairingError(promise: Promise<unknown>, reason: string): Promise<void> {
  const error = await promise.then(
    () => new Error("expected a PairingError"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PairingError);
  expect((error as PairingError).reason).toBe(reason);
}

let existing: DeviceKeys;
let log: DeviceLogState;

beforeAll(async () => {
  existing = await generateDeviceKeys();
  log = await verifyLink(null, await createRootLink(userId, existing), userId);
  log = await verifyLink(log, await createAddDeviceLink(log, existing, await generateDeviceKeys()));
});

/** One honest run through a relay that passes messages as JSON. */
async function honestRun(newDevice: DeviceKeys) {
  const n = await createPairingOffer({ userId, newDevice });
  const e = await respondToPairingOffer({ offer: wire(n.offer), existingDevice: existing });
  const nSession = await newDeviceSession(n, wire(e.response));
  const eSession = await existingDeviceSession(e, wire(revealPairingKey(n)));
  return { n, e, nSession, eSession };
}

describe("SAS pairing", () => {
  it("happy path: same 8-digit code on both sides, both MACs verify, and the new device joins the log", async () => {
    const newDevice = await generateDeviceKeys();
    const { nSession, eSession } = await honestRun(newDevice);
    expect(nSession.sas).toMatch(/^\d{4} \d{4}$/);
    expect(eSession.sas).toBe(nSession.sas);
    expect(sameSasCode(nSession.sas.replace(" ", ""), eSession)).toBe(true);

    await verifyNewDeviceMac(eSession, await newDeviceMac(nSession));
    const claim = { userId, rootHash: log.rootHash, head: log.head, signingKey: existing.signingPublicKey };
    await verifyExistingDeviceMac(nSession, claim, await existingDeviceMac(eSession, claim));

    // N builds the add_device body from the head E vouched for, reverse-signs it; E signs and appends.
    const fields = {
      type: "add_device" as const,
      deviceId: newDevice.deviceId,
      signerDeviceId: existing.deviceId,
      signingKey: newDevice.signingPublicKey,
      kemKey: newDevice.kemPublicKey,
      name: "new laptop",
      createdAt: 1_800_000_000_000,
    };
    const reverse = await reverseSignLink(unsignedLink({ userId, head: claim.head }, fields), newDevice);
    const next = await verifyLink(log, await signLink(unsignedLink(log, fields), existing, reverse));
    expect(next.devices.map((d) => d.deviceId)).toContain(newDevice.deviceId);
    expect(next.rootHash).toBe(claim.rootHash);
  });

  it("a relay that runs its own key exchange with each side (man in the middle) gives two different codes", async () => {
    const newDevice = await generateDeviceKeys();
    const n = await createPairingOffer({ userId, newDevice });
    // The relay answers N as if it were E, and offers E its own commitment as if it were N.
    const mallory = await generateDeviceKeys();
    const towardsE = await createPairingOffer({ userId, newDevice: { ...mallory, deviceId: newDevice.deviceId } });
    const towardsN = await respondToPairingOffer({ offer: n.offer, existingDevice: existing });
    const nSession = await newDeviceSession(n, towardsN.response);
    const e2 = await respondToPairingOffer({ offer: towardsE.offer, existingDevice: existing });
    const eSession = await existingDeviceSession(e2, revealPairingKey(towardsE));
    expect(sameSasCode(nSession.sas, eSession)).toBe(false);
    // Even the keys the relay substituted are caught by the MAC if the codes were waved through.
    await pairingError(verifyNewDeviceMac(eSession, await newDeviceMac(nSession)), "bad_mac");
  });

  it("a relay that changes the new device's keys or its revealed ephemeral key breaks the commitment", async () => {
    const newDevice = await generateDeviceKeys();
    const other = await generateDeviceKeys();
    const n = await createPairingOffer({ userId, newDevice });
    const swapped = await respondToPairingOffer({ offer: { ...n.offer, kemKey: other.kemPublicKey }, existingDevice: existing });
    await pairingError(existingDeviceSession(swapped, revealPairingKey(n)), "commitment_mismatch");
    const e = await respondToPairingOffer({ offer: n.offer, existingDevice: existing });
    const fake = await createPairingOffer({ userId, newDevice });
    await pairingError(existingDeviceSession(e, { ...revealPairingKey(n), ephemeralKey: fake.ephemeralKey }), "commitment_mismatch");
  });

  it("a wrong code does not match; a tampered MAC, another transaction or a malformed message aborts", async () => {
    const { n, e, nSession, eSession } = await honestRun(await generateDeviceKeys());
    const wrong = String((Number(nSession.sas.replace(" ", "")) + 1) % 100_000_000).padStart(8, "0");
    expect(sameSasCode(wrong, eSession)).toBe(false);
    expect(sameSasCode("", eSession)).toBe(false);
    const claim = { userId, rootHash: log.rootHash, head: log.head, signingKey: existing.signingPublicKey };
    const mac = await existingDeviceMac(eSession, claim);
    await pairingError(verifyExistingDeviceMac(nSession, { ...claim, head: { ...claim.head, seq: 0 } }, mac), "bad_mac");
    await pairingError(verifyNewDeviceMac(eSession, "AAAA"), "bad_mac");
    await pairingError(verifyNewDeviceMac(eSession, 42), "bad_mac");
    await pairingError(newDeviceSession(n, { ...e.response, transactionId: "AAAAAAAAAAAAAAAAAAAAAA" }), "wrong_transaction");
    await pairingError(existingDeviceSession(e, { ...revealPairingKey(n), transactionId: "AAAAAAAAAAAAAAAAAAAAAA" }), "wrong_transaction");
    await pairingError(respondToPairingOffer({ offer: { ...n.offer, kemKey: "AAAA" }, existingDevice: existing }), "malformed_message");
    await pairingError(respondToPairingOffer({ offer: null, existingDevice: existing }), "malformed_message");
  });
});
