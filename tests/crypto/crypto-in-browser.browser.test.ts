import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  createRootLink,
  type DeviceLink,
  generateDeviceKeys,
  openShare,
  type RecipientWrap,
  type ShareEnvelope,
  sealShare,
  verifyDeviceLog,
  verifyLink,
} from "@osmynt/sdk/crypto";
import { build } from "esbuild";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The crypto core in a real browser (Debian's chromium): `@osmynt/sdk/crypto` bundled for the
 * browser platform (the bundle fails if anything in it imports a Node module), then device logs,
 * shares and the RFC 9180 A.3.1 vector run in the page, and what the browser signs and seals is
 * verified and opened in Node, and the other way round.
 */
const CHROMIUM = "/usr/bin/chromium";
const entry = path.resolve(import.meta.dirname, "../../sdk/src/crypto/index.ts");
const vector = readFileSync(new URL("../fixtures/hpke/rfc9180-a3-1.json", import.meta.url), "utf8");

let server: Server;
let browser: BrowserContext;
let page: Page;
let userDataDir: string;

beforeAll(async () => {
  const bundle = await build({ entryPoints: [entry], bundle: true, format: "esm", platform: "browser", write: false, target: "es2022" });
  const code = bundle.outputFiles[0]?.text ?? "";
  server = createServer((request, response) => {
    if (request.url === "/crypto.js") response.writeHead(200, { "content-type": "text/javascript" }).end(code);
    else
      response
        .writeHead(200, { "content-type": "text/html" })
        .end(
          `<!doctype html><script type="module">import * as c from "/crypto.js"; window.osmyntCrypto = c; window.ready = true;</script>`,
        );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  userDataDir = mkdtempSync(path.join(tmpdir(), "osmynt-crypto-chromium-"));
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu"],
  });
  page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
});

afterAll(async () => {
  await browser?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  await new Promise((resolve) => server?.close(resolve));
});

describe("the crypto core in a browser", () => {
  it("reproduces RFC 9180 A.3.1 with deterministic encapsulation, and passes the start-up self-test", async () => {
    const result = await page.evaluate(async (vectorText) => {
      const c = (window as any).osmyntCrypto;
      const v = JSON.parse(vectorText);
      const e = v.encryptions[0];
      const recipient = await c.handshakeHpke.deriveKeyPair(c.fromHex(v.ikmR));
      const sealed = await c.handshakeHpke.seal({
        recipientPublicKey: recipient.publicKey,
        info: c.fromHex(v.info),
        aad: c.fromHex(e.aad),
        plaintext: c.fromHex(e.pt),
        testOnlyIkmE: c.fromHex(v.ikmE),
      });
      await c.cryptoSelfTest();
      return { enc: c.toHex(sealed.enc) === v.enc, ct: c.toHex(sealed.ciphertext) === e.ct };
    }, vector);
    expect(result).toEqual({ enc: true, ct: true });
  });

  it("signs a device log and seals a share that Node verifies and opens, and opens what Node sealed", async () => {
    const bob = await generateDeviceKeys();
    const bobRoot = await createRootLink("usr_bob", bob);
    const bobLog = await verifyLink(null, bobRoot, "usr_bob");

    const fromBrowser = (await page.evaluate(
      async (bobLinks) => {
        const c = (window as any).osmyntCrypto;
        const laptop = await c.generateDeviceKeys();
        const desktop = await c.generateDeviceKeys();
        const root = await c.createRootLink("usr_alice", laptop);
        let log = await c.verifyLink(null, root, "usr_alice");
        const add = await c.createAddDeviceLink(log, laptop, desktop);
        log = await c.verifyLink(log, add);
        const bobLog = await c.verifyDeviceLog(bobLinks, { userId: "usr_bob" });
        const sealed = await c.sealShare({
          sender: { userId: "usr_alice", keys: laptop, log },
          target: { teamId: "tm_browser" },
          shareId: "shr_browser",
          recipients: [bobLog],
          plaintext: new TextEncoder().encode("from the browser"),
        });
        (window as any).alice = { keys: desktop, log };
        return { links: [root, add], sealed, extractable: laptop.signing.privateKey.extractable, desktopId: desktop.deviceId };
      },
      [bobRoot],
    )) as { links: DeviceLink[]; sealed: { envelope: ShareEnvelope; wraps: RecipientWrap[] }; extractable: boolean; desktopId: string };

    expect(fromBrowser.extractable).toBe(false);
    const aliceLog = await verifyDeviceLog(fromBrowser.links, { userId: "usr_alice" });
    const opened = await openShare({
      envelope: fromBrowser.sealed.envelope,
      wrap: fromBrowser.sealed.wraps.find((w) => w.deviceId === bob.deviceId),
      me: { userId: "usr_bob", keys: bob, log: bobLog },
      senderLog: aliceLog,
      expected: { shareId: "shr_browser", target: { teamId: "tm_browser" } },
    });
    expect(new TextDecoder().decode(opened.plaintext)).toBe("from the browser");

    const sealedInNode = await sealShare({
      sender: { userId: "usr_bob", keys: bob, log: bobLog },
      target: { teamId: "tm_browser" },
      shareId: "shr_node",
      recipients: [aliceLog],
      plaintext: new TextEncoder().encode("from node"),
    });
    const inBrowser = await page.evaluate(
      async ({ sealed, bobLinks, desktopId }) => {
        const c = (window as any).osmyntCrypto;
        const alice = (window as any).alice;
        const bobLog = await c.verifyDeviceLog(bobLinks, { userId: "usr_bob" });
        const opened = await c.openShare({
          envelope: sealed.envelope,
          wrap: sealed.wraps.find((w: { deviceId: string }) => w.deviceId === desktopId),
          me: { userId: "usr_alice", keys: alice.keys, log: alice.log },
          senderLog: bobLog,
          expected: { shareId: "shr_node" },
        });
        const tampered = { ...sealed.envelope, manifest: { ...sealed.envelope.manifest, createdAt: 1 } };
        const refused = await c
          .openShare({
            envelope: tampered,
            wrap: sealed.wraps[0],
            me: { userId: "usr_alice", keys: alice.keys, log: alice.log },
            senderLog: bobLog,
            expected: { shareId: "shr_node" },
          })
          .then(
            () => "opened",
            (e: { reason: string }) => e.reason,
          );
        return { text: new TextDecoder().decode(opened.plaintext), refused };
      },
      { sealed: JSON.parse(JSON.stringify(sealedInNode)), bobLinks: [bobRoot], desktopId: fromBrowser.desktopId },
    );
    expect(inBrowser).toEqual({ text: "from node", refused: "bad_signature" });
  });
});
