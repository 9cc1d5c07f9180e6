import { readFileSync } from "node:fs";
import { cryptoSelfTest, fromHex, generateDeviceKeys, handshakeHpke, importPublicKey, shareHpke, toHex } from "@osmynt/sdk/crypto";
import { describe, expect, it } from "vitest";

/**
 * RFC 9180 Appendix A.3.1 (DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode)
 * through the crypto core's HPKE wrapper: the suite the server seals sign-in sessions with. A copy
 * of the vector lives in this repository (tests/fixtures/hpke).
 */
const vector = JSON.parse(readFileSync(new URL("../fixtures/hpke/rfc9180-a3-1.json", import.meta.url), "utf8")) as {
  mode: number;
  kem_id: number;
  kdf_id: number;
  aead_id: number;
  info: string;
  ikmE: string;
  ikmR: string;
  enc: string;
  encryptions: { pt: string; aad: string; ct: string }[];
};
const [encryption] = vector.encryptions;
if (!encryption) throw new Error("the RFC 9180 A.3.1 fixture is incomplete");

describe("HPKE against RFC 9180 A.3.1", () => {
  it("is the vector's suite: base mode, DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM", () => {
    expect(vector.mode).toBe(0);
    expect(handshakeHpke.ids).toEqual({ kem: vector.kem_id, kdf: vector.kdf_id, aead: vector.aead_id });
    expect(shareHpke.ids).toEqual({ kem: 0x10, kdf: 0x01, aead: 0x02 });
  });

  it("opens the vector's ciphertext with the recipient key derived from ikmR", async () => {
    const recipient = await handshakeHpke.deriveKeyPair(fromHex(vector.ikmR));
    const plaintext = await handshakeHpke.open({
      recipientKey: recipient,
      enc: fromHex(vector.enc),
      ciphertext: fromHex(encryption.ct),
      info: fromHex(vector.info),
      aad: fromHex(encryption.aad),
    });
    expect(toHex(plaintext)).toBe(encryption.pt);
  });

  it("seals to exactly the vector's enc and ciphertext with the ephemeral key from ikmE (deterministic encapsulation)", async () => {
    const recipient = await handshakeHpke.deriveKeyPair(fromHex(vector.ikmR));
    const sealed = await handshakeHpke.seal({
      recipientPublicKey: recipient.publicKey,
      info: fromHex(vector.info),
      aad: fromHex(encryption.aad),
      plaintext: fromHex(encryption.pt),
      testOnlyIkmE: fromHex(vector.ikmE),
    });
    expect(toHex(sealed.enc)).toBe(vector.enc);
    expect(toHex(sealed.ciphertext)).toBe(encryption.ct);
  });

  it("refuses to open with the wrong info, aad, enc or a flipped ciphertext bit", async () => {
    const recipient = await handshakeHpke.deriveKeyPair(fromHex(vector.ikmR));
    const good = {
      recipientKey: recipient,
      enc: fromHex(vector.enc),
      ciphertext: fromHex(encryption.ct),
      info: fromHex(vector.info),
      aad: fromHex(encryption.aad),
    };
    const flipped = fromHex(encryption.ct);
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    const other = await generateDeviceKeys();
    const otherEnc = fromHex(toHex(new Uint8Array(await crypto.subtle.exportKey("raw", (other.kem as CryptoKeyPair).publicKey))));
    for (const bad of [
      { ...good, info: new TextEncoder().encode("another context") },
      { ...good, aad: new TextEncoder().encode("Count-1") },
      { ...good, ciphertext: flipped },
      { ...good, enc: otherEnc },
    ]) {
      await expect(handshakeHpke.open(bad)).rejects.toThrow();
    }
  });

  it("the share suite (AES-256-GCM) round-trips to a non-extractable device key and binds info; the suites do not mix", async () => {
    const device = await generateDeviceKeys();
    const kem = device.kem as CryptoKeyPair;
    const info = new TextEncoder().encode("context");
    const plaintext = crypto.getRandomValues(new Uint8Array(32));
    const sealed = await shareHpke.seal({
      recipientPublicKey: await importPublicKey(device.kemPublicKey as string, "kem"),
      info,
      plaintext,
    });
    expect(sealed.enc).toHaveLength(65);
    expect(sealed.ciphertext).toHaveLength(48);
    expect(toHex(await shareHpke.open({ recipientKey: kem, enc: sealed.enc, ciphertext: sealed.ciphertext, info }))).toBe(toHex(plaintext));
    await expect(
      shareHpke.open({ recipientKey: kem, enc: sealed.enc, ciphertext: sealed.ciphertext, info: new Uint8Array(0) }),
    ).rejects.toThrow();
    await expect(handshakeHpke.open({ recipientKey: kem, enc: sealed.enc, ciphertext: sealed.ciphertext, info })).rejects.toThrow();
  });

  it("the start-up self-test passes on this platform", async () => {
    await expect(cryptoSelfTest()).resolves.toBeUndefined();
  });
});
