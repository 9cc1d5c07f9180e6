/**
 * Costs of the crypto core's share path against the raw primitives it is built from, on this
 * machine (a benchmark, not a test: it asserts nothing).
 *
 *   pnpm bench:crypto [iterations]
 *
 * sealShare/openShare for a team share with 10 recipient devices (1 KiB and 1 MiB payloads),
 * against a baseline of the same raw work: one AES-256-GCM encryption plus 10 HPKE seals with
 * @hpke/core directly (no padding, binding, manifest or signature).
 */
import { Aes256Gcm, CipherSuite, DhkemP256HkdfSha256, HkdfSha256 } from "@hpke/core";
import {
  createAddDeviceLink,
  createRootLink,
  type DeviceKeys,
  type DeviceLogState,
  generateDeviceKeys,
  openShare,
  sealShare,
  verifyLink,
} from "../src/crypto/index.js";

const iterations = Number(process.argv[2] ?? 20);

async function userWith(userId: string, count: number): Promise<{ devices: DeviceKeys[]; log: DeviceLogState }> {
  const devices = await Promise.all(Array.from({ length: count }, () => generateDeviceKeys()));
  const [first, ...rest] = devices as [DeviceKeys, ...DeviceKeys[]];
  let log = await verifyLink(null, await createRootLink(userId, first), userId);
  for (const d of rest) log = await verifyLink(log, await createAddDeviceLink(log, first, d));
  return { devices, log };
}

async function time(label: string, run: () => Promise<unknown>): Promise<number> {
  await run();
  const start = performance.now();
  for (let i = 0; i < iterations; i++) await run();
  const ms = (performance.now() - start) / iterations;
  console.log(`${label.padEnd(58)} ${ms.toFixed(2).padStart(9)} ms`);
  return ms;
}

async function main(): Promise<void> {
  const alice = await userWith("usr_alice", 2);
  const others = await Promise.all(Array.from({ length: 4 }, (_, i) => userWith(`usr_${i}`, 2)));
  const sender = { userId: "usr_alice", keys: alice.devices[0] as DeviceKeys, log: alice.log };
  const recipients = others.map((o) => o.log);
  const suite = new CipherSuite({ kem: new DhkemP256HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
  const kemKeys = [alice, ...others].flatMap((u) => u.devices.map((d) => (d.kem as CryptoKeyPair).publicKey));
  console.log(`node ${process.version}, ${iterations} iterations each, 10 recipient devices`);

  for (const size of [1024, 1024 * 1024 - 1024]) {
    const plaintext = new Uint8Array(size).fill(7);
    const label = size < 4096 ? "1 KiB" : "1 MiB";
    const baseline = await time(`baseline: raw AES-256-GCM + 10 raw HPKE seals, ${label}`, async () => {
      const key = crypto.getRandomValues(new Uint8Array(32));
      const aes = await crypto.subtle.importKey("raw", key, "AES-GCM", false, ["encrypt"]);
      await crypto.subtle.encrypt({ name: "AES-GCM", iv: crypto.getRandomValues(new Uint8Array(12)) }, aes, plaintext);
      await Promise.all(kemKeys.map((recipientPublicKey) => suite.seal({ recipientPublicKey }, key)));
    });
    const sealed = await sealShare({ sender, target: { teamId: "tm_bench" }, shareId: "shr_bench", recipients, plaintext });
    const seal = await time(`sealShare (pad, bind, wrap x10, sign), ${label}`, () =>
      sealShare({ sender, target: { teamId: "tm_bench" }, shareId: "shr_bench", recipients, plaintext }),
    );
    const reader = others[0] as { devices: DeviceKeys[]; log: DeviceLogState };
    const readerKeys = reader.devices[0] as DeviceKeys;
    const wrap = sealed.wraps.find((w) => w.deviceId === readerKeys.deviceId);
    const open = await time(`openShare (verify, unwrap, commit, decrypt), ${label}`, () =>
      openShare({
        envelope: sealed.envelope,
        wrap,
        me: { userId: "usr_0", keys: readerKeys, log: reader.log },
        senderLog: alice.log,
        expected: { shareId: "shr_bench" },
      }),
    );
    console.log(`  sealShare / baseline: ${(seal / baseline).toFixed(2)}x; openShare: ${open.toFixed(2)} ms`);
  }
}

await main();
