import { readFileSync } from "node:fs";
import {
  AES_GCM_NONCE_LENGTH,
  aesGcmDecrypt,
  aesGcmEncrypt,
  CryptoError,
  ecdhP256,
  fromHex,
  hkdfSha256,
  importPrivateKey,
  importPublicKey,
  KeyError,
  toHex,
  verifyRaw,
} from "@osmynt/sdk/crypto";
import { describe, expect, it } from "vitest";

/**
 * Wycheproof (C2SP/wycheproof testvectors_v1, copied into tests/fixtures/wycheproof) through the
 * crypto core's own wrappers, the ones the product calls: every case of each file is run; "valid"
 * must be accepted with the exact output, "invalid" refused, "acceptable" may go either way.
 */
interface WycheproofFile<G> {
  algorithm: string;
  numberOfTests: number;
  testGroups: (G & { tests: { tcId: number; comment: string; result: "valid" | "invalid" | "acceptable"; flags: string[] }[] })[];
}
function load<G, T>(name: string): WycheproofFile<G> & { testGroups: (G & { tests: T[] })[] } {
  return JSON.parse(readFileSync(new URL(`../fixtures/wycheproof/${name}`, import.meta.url), "utf8"));
}
const allTests = <G, T>(file: { testGroups: (G & { tests: T[] })[] }) =>
  file.testGroups.flatMap((g) => g.tests.map((t) => ({ group: g, test: t })));

type Outcome = { tcId: number; result: string; accepted: boolean; reason?: string };
function tally(outcomes: Outcome[]): { valid: number; invalid: number; acceptable: number; wrong: Outcome[] } {
  const wrong = outcomes.filter((o) => (o.result === "valid" && !o.accepted) || (o.result === "invalid" && o.accepted));
  return {
    valid: outcomes.filter((o) => o.result === "valid").length,
    invalid: outcomes.filter((o) => o.result === "invalid").length,
    acceptable: outcomes.filter((o) => o.result === "acceptable").length,
    wrong,
  };
}

describe("Wycheproof ECDSA P-256 SHA-256 (P1363) through importPublicKey + verifyRaw", () => {
  const file = load<{ publicKey: { uncompressed: string } }, { tcId: number; msg: string; sig: string; result: string }>(
    "ecdsa_secp256r1_sha256_p1363_test.json",
  );
  it("accepts every valid signature and refuses every invalid one", async () => {
    const outcomes: Outcome[] = [];
    for (const { group, test } of allTests(file)) {
      const key = await importPublicKey(fromHex(group.publicKey.uncompressed), "signing");
      outcomes.push({ tcId: test.tcId, result: test.result, accepted: await verifyRaw(key, fromHex(test.msg), fromHex(test.sig)) });
    }
    const { valid, invalid, wrong } = tally(outcomes);
    expect(outcomes).toHaveLength(file.numberOfTests);
    expect([valid, invalid]).toEqual([173, 89]);
    expect(wrong).toEqual([]);
  });
});

describe("Wycheproof ECDH P-256 (webcrypto JWK) through importPublicKey/importPrivateKey + ecdhP256", () => {
  const file = load<object, { tcId: number; public: JsonWebKey; private: JsonWebKey; shared: string; result: string }>(
    "ecdh_secp256r1_webcrypto_test.json",
  );
  it("derives every valid shared secret and refuses every invalid public key with a KeyError", async () => {
    const outcomes: Outcome[] = [];
    for (const { test } of allTests(file)) {
      try {
        const { privateKey } = await importPrivateKey(test.private, "kem");
        const shared = await ecdhP256(privateKey, await importPublicKey(test.public, "kem"));
        outcomes.push({ tcId: test.tcId, result: test.result, accepted: toHex(shared) === test.shared });
      } catch (error) {
        expect(error).toBeInstanceOf(KeyError);
        outcomes.push({ tcId: test.tcId, result: test.result, accepted: false, reason: (error as KeyError).reason });
      }
    }
    const { valid, invalid, wrong } = tally(outcomes);
    expect(outcomes).toHaveLength(file.numberOfTests);
    expect([valid, invalid]).toEqual([330, 23]);
    expect(wrong).toEqual([]);
    // The secp256k1 point that also lies on P-256 (tcId 347) is refused for its curve name.
    expect(outcomes.find((o) => o.tcId === 347)?.reason).toBe("wrong_curve");
  });
});

describe("Wycheproof AES-GCM through aesGcmEncrypt/aesGcmDecrypt", () => {
  const file = load<
    { ivSize: number; keySize: number; tagSize: number },
    { tcId: number; key: string; iv: string; aad: string; msg: string; ct: string; tag: string; result: string }
  >("aes_gcm_test.json");
  const cases = allTests(file);

  it("with 96-bit nonces and 128-bit tags: encrypts valid cases exactly, decrypts them, and refuses every invalid one", async () => {
    const outcomes: Outcome[] = [];
    for (const { group, test } of cases.filter(({ group }) => group.ivSize === 96 && group.tagSize === 128)) {
      const key = fromHex(test.key);
      const sealed = fromHex(test.ct + test.tag);
      let accepted: boolean;
      try {
        const opened = await aesGcmDecrypt(key, fromHex(test.iv), sealed, fromHex(test.aad));
        accepted = toHex(opened) === test.msg;
      } catch (error) {
        expect(error).toBeInstanceOf(CryptoError);
        accepted = false;
      }
      if (test.result === "valid")
        expect(toHex(await aesGcmEncrypt(key, fromHex(test.iv), fromHex(test.msg), fromHex(test.aad)))).toBe(test.ct + test.tag);
      outcomes.push({ tcId: test.tcId, result: test.result, accepted });
      expect(group.keySize).toBe(key.length * 8);
    }
    const { valid, invalid, wrong } = tally(outcomes);
    expect(valid).toBeGreaterThan(60);
    expect(invalid).toBeGreaterThan(60);
    expect(wrong).toEqual([]);
    expect(outcomes.length).toBe(cases.filter(({ group }) => group.ivSize === 96).length);
  });

  it("refuses every other nonce length up front (the product uses 12-byte nonces only)", async () => {
    const others = cases.filter(({ group }) => group.ivSize !== 96);
    expect(others.length).toBeGreaterThan(0);
    for (const { test } of others) {
      const error = await aesGcmDecrypt(fromHex(test.key), fromHex(test.iv), fromHex(test.ct + test.tag), fromHex(test.aad)).catch(
        (e: unknown) => e,
      );
      expect((error as CryptoError).reason).toBe("bad_nonce");
    }
    expect(AES_GCM_NONCE_LENGTH).toBe(12);
  });
});

describe("Wycheproof HKDF-SHA256 through hkdfSha256", () => {
  const file = load<object, { tcId: number; ikm: string; salt: string; info: string; size: number; okm: string; result: string }>(
    "hkdf_sha256_test.json",
  );
  it("derives every valid output and refuses every invalid output size", async () => {
    const outcomes: Outcome[] = [];
    for (const { test } of allTests(file)) {
      try {
        const okm = await hkdfSha256(fromHex(test.ikm), fromHex(test.salt), fromHex(test.info), Number(test.size));
        outcomes.push({ tcId: test.tcId, result: test.result, accepted: toHex(okm) === test.okm });
      } catch (error) {
        expect(error).toBeInstanceOf(RangeError);
        outcomes.push({ tcId: test.tcId, result: test.result, accepted: false });
      }
    }
    const { valid, invalid, wrong } = tally(outcomes);
    expect(outcomes).toHaveLength(file.numberOfTests);
    expect([valid, invalid]).toEqual([83, 3]);
    expect(wrong).toEqual([]);
  });
});
