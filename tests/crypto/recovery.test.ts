import {
  activeDevices,
  assertLogExtends,
  assertRecoveryKeyOf,
  createAddDeviceLink,
  createRevokeLink,
  createRootLink,
  type DeviceLink,
  deriveRecoveryKeys,
  generateDeviceKeys,
  generateRecoveryCode,
  openShare,
  RecoveryError,
  sealShare,
  verifyDeviceLog,
  verifyLink,
} from "@osmynt/sdk/crypto";
import { describe, expect, it } from "vitest";

async function recoveryError(promise: Promise<unknown>, reason: string): Promise<void> {
  const error = await promise.then(
    () => new Error("expected a RecoveryError"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RecoveryError);
  expect((error as RecoveryError).reason).toBe(reason);
}

describe("the recovery key", () => {
  it("is derived again, the same, from the code as the user typed it (any case, separators, O for 0)", async () => {
    const { code, keys } = await generateRecoveryCode();
    expect(code).toMatch(/^([0-9A-HJKMNP-TV-Z]{4}-){7}[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(keys.kind).toBe("recovery");
    expect(keys.kem).toBeNull();
    expect(keys.signing.privateKey.extractable).toBe(false);
    for (const typed of [code, code.toLowerCase(), code.replace(/-/g, " "), code.replace(/-/g, "").replace(/0/g, "O").replace(/1/g, "l")]) {
      const again = await deriveRecoveryKeys(typed);
      expect([again.deviceId, again.signingPublicKey]).toEqual([keys.deviceId, keys.signingPublicKey]);
    }
    const other = await generateRecoveryCode();
    expect(other.keys.signingPublicKey).not.toBe(keys.signingPublicKey);
  });

  it("refuses a mistyped or malformed code", async () => {
    const { code } = await generateRecoveryCode();
    const last = code.at(-1) === "A" ? "B" : "A";
    await recoveryError(deriveRecoveryKeys(code.slice(0, -1) + last), "code_typo");
    await recoveryError(deriveRecoveryKeys(code.slice(0, -5)), "malformed_code");
    await recoveryError(deriveRecoveryKeys(`${code.slice(0, -1)}U`), "malformed_code");
    await recoveryError(deriveRecoveryKeys(""), "malformed_code");
  });

  it("all devices lost: recover with the code, same fingerprint, a teammate's pin still holds; a wrong code is refused", async () => {
    const userId = "usr_recovers";
    const laptop = await generateDeviceKeys();
    const { code, keys: recovery } = await generateRecoveryCode();
    const links: DeviceLink[] = [await createRootLink(userId, laptop)];
    let log = await verifyLink(null, links[0], userId);
    links.push(await createAddDeviceLink(log, laptop, recovery));
    log = await verifyLink(log, links[1]);
    // A teammate pinned Alice's identity and the log head it saw.
    const pinned = { fingerprint: log.fingerprint, head: log.head };

    // Every device is lost; on a new machine the user types the recovery code.
    const typed = await deriveRecoveryKeys(code);
    const fresh = await verifyDeviceLog(links, { userId });
    assertRecoveryKeyOf(fresh, typed);
    const wrong = await deriveRecoveryKeys((await generateRecoveryCode()).code);
    expect(() => assertRecoveryKeyOf(fresh, wrong)).toThrow(RecoveryError);
    await expect(verifyLink(fresh, await createAddDeviceLink(fresh, wrong, await generateDeviceKeys()))).rejects.toMatchObject({
      reason: "unknown_signer",
    });

    const newDevice = await generateDeviceKeys();
    links.push(await createAddDeviceLink(fresh, typed, newDevice));
    let recovered = await verifyLink(fresh, links[2]);
    links.push(await createRevokeLink(recovered, typed, laptop.deviceId));
    recovered = await verifyLink(recovered, links[3]);

    const seen = await verifyDeviceLog(links, { userId });
    expect(seen.fingerprint).toBe(pinned.fingerprint);
    assertLogExtends(pinned, seen);
    expect(activeDevices(seen).map((d) => d.deviceId)).toEqual([newDevice.deviceId]);

    // The teammate encrypts to the new device, which opens it.
    const bob = await generateDeviceKeys();
    const bobLog = await verifyLink(null, await createRootLink("usr_bob", bob), "usr_bob");
    const { envelope, wraps } = await sealShare({
      sender: { userId: "usr_bob", keys: bob, log: bobLog },
      target: { userId },
      shareId: "shr_r",
      recipients: [seen],
      plaintext: new TextEncoder().encode("welcome back"),
    });
    const opened = await openShare({
      envelope,
      wrap: wraps.find((w) => w.deviceId === newDevice.deviceId),
      me: { userId, keys: newDevice, log: seen },
      senderLog: bobLog,
      expected: { shareId: "shr_r" },
    });
    expect(new TextDecoder().decode(opened.plaintext)).toBe("welcome back");
  });
});
