import {
  type DeviceLinkBody,
  encodeLinkBody,
  fromBase64url,
  kemKeyId,
  lengthPrefixed,
  linkHash,
  toHex,
  u64,
  userFingerprint,
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

  it("accepts only canonical base64url", () => {
    expect(toHex(fromBase64url("AAE"))).toBe("0001");
    for (const bad of ["AAE=", "AA+", "AA/", "AAF", "A", "AA E"]) expect(() => fromBase64url(bad)).toThrow(TypeError);
  });
});
