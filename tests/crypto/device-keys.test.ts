import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  CryptoError,
  createDeviceKeys,
  exportPublicKey,
  generateDeviceKeys,
  generateKemKey,
  importPrivateKey,
  importPublicKey,
  KeyError,
  loadDeviceKeys,
  memoryKeyStore,
  replaceStoredKemKey,
  sign,
  toBase64url,
  verify,
} from "@osmynt/sdk/crypto";
import { fileKeyStore } from "@osmynt/sdk/crypto/file-key-store";
import { describe, expect, it } from "vitest";

const message = new TextEncoder().encode("hello");

describe("device keys", () => {
  it("are P-256 keys whose private halves cannot be exported", async () => {
    const keys = await generateDeviceKeys();
    expect(keys.deviceId).toMatch(/^dev_[A-Za-z0-9_-]{20}$/);
    expect(keys.signing.privateKey.extractable).toBe(false);
    expect(keys.kem?.privateKey.extractable).toBe(false);
    expect(keys.signing.privateKey.algorithm).toMatchObject({ name: "ECDSA", namedCurve: "P-256" });
    expect(keys.kem?.privateKey.algorithm).toMatchObject({ name: "ECDH", namedCurve: "P-256" });
    await expect(crypto.subtle.exportKey("pkcs8", keys.signing.privateKey)).rejects.toThrow();
    const signature = await sign(keys.signing.privateKey, "test", message);
    expect(await verify(await importPublicKey(keys.signingPublicKey, "signing"), "test", message, signature)).toBe(true);
    expect(await verify(await importPublicKey(keys.signingPublicKey, "signing"), "other label", message, signature)).toBe(false);
  });

  it("persist through a key store and come back non-extractable and the same", async () => {
    const store = memoryKeyStore();
    const created = await createDeviceKeys(store, { deviceId: "dev_fixed" });
    const loaded = await loadDeviceKeys(store);
    expect(loaded?.deviceId).toBe("dev_fixed");
    expect(loaded?.signingPublicKey).toBe(created.signingPublicKey);
    expect(loaded?.kemPublicKey).toBe(created.kemPublicKey);
    expect(loaded?.signing.privateKey.extractable).toBe(false);
    const signature = await sign(created.signing.privateKey, "x", message);
    expect(await verify(loaded?.signing.publicKey as CryptoKey, "x", message, signature)).toBe(true);
    expect(await loadDeviceKeys(store, "another")).toBeNull();

    const rotated = await generateKemKey();
    const replaced = await replaceStoredKemKey(store, rotated.kemPkcs8);
    expect(replaced.kemPublicKey).toBe(rotated.kemPublicKey);
    expect(replaced.signingPublicKey).toBe(created.signingPublicKey);
  });

  it("refuse a corrupt key store entry instead of reading it as no keys", async () => {
    for (const value of ["{", "{}", JSON.stringify({ v: 1, deviceId: "d", kind: "device", signing: "AAAA", kem: null })]) {
      const error = await loadDeviceKeys(memoryKeyStore({ "osmynt.device": value })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CryptoError);
    }
    await expect(importPrivateKey("AAAA", "signing")).rejects.toBeInstanceOf(KeyError);
  });

  it("live in a file only its owner can read, in a folder only its owner can open", async () => {
    const folder = path.join(await mkdtemp(path.join(tmpdir(), "osmynt-keys-")), "nested");
    const file = path.join(folder, "keys.json");
    const store = fileKeyStore(file);
    const created = await createDeviceKeys(store);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(folder)).mode & 0o777).toBe(0o700);
    const again = await loadDeviceKeys(fileKeyStore(file));
    expect(again?.signingPublicKey).toBe(created.signingPublicKey);
    await Promise.all([store.set("a", "1"), store.set("b", "2"), store.delete("osmynt.device")]);
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({ a: "1", b: "2" });
    await writeFile(file, "[1]");
    await expect(fileKeyStore(file).get("a")).rejects.toThrow(/not a key store/);
  });
});

describe("public key import", () => {
  it("names the problem: another curve, off the curve, compressed, DER, wrong length, not base64url", async () => {
    const good = (await generateDeviceKeys()).signingPublicKey;
    const p384 = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-384" }, true, ["deriveBits"]);
    const x25519 = await crypto.subtle.generateKey({ name: "X25519" }, true, ["deriveBits"]);
    const spki = new Uint8Array(await crypto.subtle.exportKey("spki", (await importPublicKey(good, "kem")) as CryptoKey));
    const raw = Uint8Array.from(atob(good.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
    const off = raw.slice();
    off[40] = (off[40] ?? 0) ^ 0xff;
    const infinity = new Uint8Array(65);
    infinity[0] = 4;
    const cases: [string | Uint8Array, string, RegExp][] = [
      [await exportPublicKey(p384.publicKey), "wrong_curve", /P-384/],
      [await exportPublicKey((x25519 as CryptoKeyPair).publicKey), "wrong_curve", /X25519/],
      [toBase64url(off), "not_on_curve", /not a point on the P-256 curve/],
      [infinity, "not_on_curve", /not a point/],
      [raw.slice(0, 33).map((b, i) => (i === 0 ? 3 : b)), "malformed_key", /compressed/],
      [spki, "malformed_key", /DER/],
      [raw.slice(0, 64), "malformed_key", /65 bytes/],
      [raw.map((b, i) => (i === 0 ? 5 : b)), "malformed_key", /0x04/],
      ["%%%", "malformed_key", /base64url/],
    ];
    for (const [key, reason, words] of cases) {
      for (const use of ["signing", "kem"] as const) {
        const error = await importPublicKey(key, use).catch((e: unknown) => e);
        expect(error, `${reason} ${String(words)}`).toBeInstanceOf(KeyError);
        expect((error as KeyError).reason).toBe(reason);
        expect((error as KeyError).message).toMatch(words);
      }
    }
    expect((await importPublicKey(good, "kem")).algorithm).toMatchObject({ name: "ECDH", namedCurve: "P-256" });
  });
});
