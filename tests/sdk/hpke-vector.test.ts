import { readFileSync } from "node:fs";
import { fromHex, handshakeSuite, hpkeOpen, toHex } from "@osmynt/sdk";
import { describe, expect, it } from "vitest";

/**
 * RFC 9180 Appendix A.3.1 (DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode): the
 * suite the server seals sign-in sessions with. A copy of the vector lives in this repository.
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
  exports: { exporter_context: string; L: number; exported_value: string }[];
};
const [encryption] = vector.encryptions;
const [exported] = vector.exports;
if (!encryption || !exported) throw new Error("the RFC 9180 A.3.1 fixture is incomplete");
const bytes = (hex: string) => fromHex(hex) as Uint8Array<ArrayBuffer>;

describe("the SDK's HPKE suite against RFC 9180 A.3.1", () => {
  it("is the vector's suite: base mode, DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM", () => {
    expect(vector.mode).toBe(0);
    expect([handshakeSuite.kem.id, handshakeSuite.kdf.id, handshakeSuite.aead.id]).toEqual([vector.kem_id, vector.kdf_id, vector.aead_id]);
  });

  it("opens the vector's ciphertext with the recipient key derived from ikmR", async () => {
    const recipient = await handshakeSuite.kem.deriveKeyPair(bytes(vector.ikmR));
    const plaintext = await hpkeOpen({
      recipientKey: recipient,
      enc: bytes(vector.enc),
      ciphertext: bytes(encryption.ct),
      info: bytes(vector.info),
      aad: bytes(encryption.aad),
    });
    expect(toHex(plaintext)).toBe(encryption.pt);
  });

  it("seals to exactly the vector's enc, ciphertext and exported secret with the ephemeral key from ikmE", async () => {
    const recipient = await handshakeSuite.kem.deriveKeyPair(bytes(vector.ikmR));
    const sender = await handshakeSuite.createSenderContext({
      recipientPublicKey: recipient.publicKey,
      info: bytes(vector.info),
      ekm: bytes(vector.ikmE),
    });
    expect(toHex(new Uint8Array(sender.enc))).toBe(vector.enc);
    expect(toHex(new Uint8Array(await sender.seal(bytes(encryption.pt), bytes(encryption.aad))))).toBe(encryption.ct);
    expect(toHex(new Uint8Array(await sender.export(bytes(exported.exporter_context), exported.L)))).toBe(exported.exported_value);
  });

  it("refuses to open with the wrong info, aad, enc or a flipped ciphertext bit", async () => {
    const recipient = await handshakeSuite.kem.deriveKeyPair(bytes(vector.ikmR));
    const good = {
      recipientKey: recipient,
      enc: bytes(vector.enc),
      ciphertext: bytes(encryption.ct),
      info: bytes(vector.info),
      aad: bytes(encryption.aad),
    };
    const flipped = bytes(encryption.ct);
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    const otherEnc = new Uint8Array(await handshakeSuite.kem.serializePublicKey((await handshakeSuite.kem.generateKeyPair()).publicKey));
    for (const bad of [
      { ...good, info: new TextEncoder().encode("another context") },
      { ...good, aad: new TextEncoder().encode("Count-1") },
      { ...good, ciphertext: flipped },
      { ...good, enc: otherEnc },
    ]) {
      await expect(hpkeOpen(bad)).rejects.toThrow();
    }
  });
});
