import {
  contentAad,
  type DeviceLinkBody,
  encodeLinkBody,
  fromBase64url,
  kemKeyId,
  keyCommitment,
  lengthPrefixed,
  linkHash,
  pad,
  paddedLength,
  safetyNumber,
  sameSafetyNumber,
  toBase64url,
  toHex,
  u64,
  unpad,
  userFingerprint,
  wrapInfo,
} from "@osmynt/sdk/crypto";
import { describe, expect, it } from "vitest";

/**
 * Golden vectors for the canonical encodings, computed by a second implementation (a short Python
 * script with hashlib, written from crypto.md §3/§4): any drift in field order, prefixes or labels
 * changes every signature and hash, so it must show up here first.
 */
const body: DeviceLinkBody = {
  v: 1,
  suite: "SNIP1-P256",
  userId: "usr_alice",
  seq: 1,
  prev: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
  type: "add_device",
  deviceId: "dev_phone",
  signerDeviceId: "dev_laptop",
  signingKey: "BAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-P0A",
  kemKey: "BEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl9gYWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1-f4A",
  name: "phone ☎",
  createdAt: 1764547200000,
};

describe("canonical encodings", () => {
  it("length-prefixes each part with its u16be length and encodes integers as u64be", () => {
    expect(toHex(lengthPrefixed("ab", new Uint8Array([1]), ""))).toBe("0002616200010100" + "00");
    expect(toHex(u64(2 ** 53 - 1))).toBe("001fffffffffffff");
    expect(() => u64(-1)).toThrow(RangeError);
    expect(() => lengthPrefixed(new Uint8Array(65536))).toThrow(RangeError);
  });

  it("encodes a device-link body byte for byte", () => {
    expect(toHex(encodeLinkBody(body))).toBe(
      "0013736e69702f76312f6465766963652d6c696e6b000a534e4950312d50323536000000000000000100097573725f616c69636500000000000000010020000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f000a6164645f64657669636500096465765f70686f6e65000a6465765f6c6170746f700041040102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f400041044142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f80000970686f6e6520e2988e0000019ad7358400",
    );
  });

  it("derives the link hash, the user fingerprint and the kem key id", async () => {
    const hash = await linkHash(body);
    expect(hash).toBe("ewkXZAA5CwcFv6S46CiEEizKCjMVoYcgFpP6w1hmq5A");
    expect(await userFingerprint("usr_alice", hash)).toBe("_0ELoNR3M128OLwtAf0GM0n_GBRm7yS7I7aJasxM_F4");
    expect(await kemKeyId(body.kemKey as string)).toBe("xC5cVI2js2Tr4Io1s59hYw");
  });

  it("derives the safety number of two fingerprints, the same whichever side computes it", async () => {
    const a = "_0ELoNR3M128OLwtAf0GM0n_GBRm7yS7I7aJasxM_F4";
    const b = toBase64url(Uint8Array.from({ length: 32 }, (_, i) => i));
    const expected = "40857 82790 00312 93293 97517 65397 29595 26957 92752 22978 53723 72798";
    expect(await safetyNumber(a, b)).toBe(expected);
    expect(await safetyNumber(b, a)).toBe(expected);
    expect(sameSafetyNumber(expected.replace(/ /g, "-"), expected)).toBe(true);
    expect(sameSafetyNumber(expected.slice(0, -1), expected)).toBe(false);
    expect(await safetyNumber(a, a)).not.toBe(expected);
  });

  it("binds share content and key wraps to their context (AAD, HPKE info, key commitment)", async () => {
    const context = {
      suite: "SNIP1-P256",
      target: { teamId: "tm_1" },
      shareId: "shr_1",
      version: 1,
      senderUserId: "usr_alice",
      senderDeviceId: "dev_laptop",
    };
    expect(toHex(contentAad(context))).toBe(
      "000f736e69702f76312f636f6e74656e74000a534e4950312d5032353600047465616d0004746d5f3100057368725f31000000000000000100097573725f616c696365000a6465765f6c6170746f70",
    );
    const kemPublicKey = Uint8Array.from({ length: 65 }, (_, i) => (i === 0 ? 4 : i));
    const info = await wrapInfo(
      { ...context, target: { userId: "usr_bob" } },
      { userId: "usr_bob", deviceId: "dev_phone", kemPublicKey },
      new Uint8Array(32).fill(9),
    );
    expect(toHex(info)).toBe(
      "000c736e69702f76312f77726170000a534e4950312d5032353600047573657200077573725f626f6200057368725f31000000000000000100097573725f616c696365000a6465765f6c6170746f7000077573725f626f6200096465765f70686f6e6500200ed3a6ab957ff6f59a9630a473d31a7d04fcb46548b89016196980c7e96584f60909090909090909090909090909090909090909090909090909090909090909",
    );
    const key = Uint8Array.from({ length: 32 }, (_, i) => i);
    expect(toBase64url(await keyCommitment(key, "shr_1", 1))).toBe("r2wAReA_VMhV4M_YDxA9f_vQW1TTtmlgx5ZH5a9L1XA");
  });

  it("pads payloads to buckets and strips the padding back", () => {
    expect([0, 255, 256, 1000, 1024 * 1024].map(paddedLength)).toEqual([256, 256, 288, 1024, 1024 * 1024 + 131072]);
    for (const n of [0, 1, 255, 256, 5000]) {
      const payload = new Uint8Array(n).fill(0);
      expect(unpad(pad(payload))).toEqual(payload);
    }
    expect(() => unpad(new Uint8Array(256))).toThrow(/padded/);
  });

  it("encodes base64url exactly as Node does, and decodes it back, at every length", () => {
    for (let n = 0; n < 70; n++) {
      const bytes = crypto.getRandomValues(new Uint8Array(n));
      expect(toBase64url(bytes)).toBe(Buffer.from(bytes).toString("base64url"));
      expect(toHex(fromBase64url(toBase64url(bytes)))).toBe(toHex(bytes));
    }
  });

  it("accepts only canonical base64url", () => {
    expect(toHex(fromBase64url("AAE"))).toBe("0001");
    for (const bad of ["AAE=", "AA+", "AA/", "AAF", "A", "AA E"]) expect(() => fromBase64url(bad)).toThrow(TypeError);
  });
});
