import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { build, type Metafile } from "esbuild";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomLogin } from "../helpers/factories.js";
import { installPackedSdk, ok, run } from "../helpers/packed-sdk.js";
import { startServer } from "../helpers/server.js";

/**
 * The acceptance test of the SDK as a dependency: `pnpm pack` it, install the tarball with npm
 * into a project outside the workspace (its dependencies from the registry), and run one app
 * scenario, written against the package's public entries only, twice against a real server:
 * (a) with plain Node, which takes the Node entry; (b) bundled by esbuild for the browser, which
 * takes the `browser` entry (no `ws`, no `node:*`), in a page of its own origin in headless
 * Chromium. The scenario: dev sign-in of two users, a team and an invite, a device each, Alice
 * shares code, Bob's live event stream hears it and Bob opens (verifies and decrypts) it.
 *
 * In the browser suite because `npm install` is slow; npm's own cache (`--prefer-offline`) keeps
 * later runs off the network for packages it already holds.
 */

const CHROMIUM = "/usr/bin/chromium";

// What an app does with the SDK: only `@osmynt/sdk` and `@osmynt/sdk/crypto`, platform-neutral.
const scenarioMjs = `import { createDevices, createOsmyntClient, createShares } from "@osmynt/sdk";
import { memoryKeyStore } from "@osmynt/sdk/crypto";

export async function scenario(url, tag) {
  const steps = [];
  const person = async (login) => {
    const client = createOsmyntClient({ url });
    const session = await client.signInWithDevLogin(login);
    const devices = createDevices(client, { keyStore: memoryKeyStore() });
    await devices.register({ name: login + "'s device" });
    return { client, devices, shares: createShares(client, devices), user: session.user };
  };
  const alice = await person("alice-" + tag);
  const bob = await person("bob-" + tag);
  steps.push("signed in " + alice.user.login + " and " + bob.user.login);

  const team = await alice.client.teams.create.mutate({ name: "Packed " + tag });
  const invite = await alice.client.teams.invites.create.mutate({ teamId: team.id });
  const accepted = await bob.client.teams.invites.accept.mutate({ token: invite.url });
  steps.push("bob joined " + accepted.name + ": " + accepted.joined);

  // Bob's live feed is open (the server confirmed the subscription) before Alice shares.
  const feed = bob.client.events({ signal: AbortSignal.timeout(60000) });
  await feed.ready;
  const code = "export const secret = " + JSON.stringify("code of " + tag) + ";";
  const { id } = await alice.shares.shareCode({ teamId: team.id, code, title: "secret.ts", path: "src/secret.ts", language: "typescript" });
  steps.push("alice shared " + id);

  let live = null;
  for await (const event of feed) {
    if (event.type === "share.created" && event.payload.shareId === id) {
      live = event;
      break;
    }
  }
  if (!live) throw new Error("the live event never came");
  steps.push("bob heard " + live.type + " " + live.payload.shareId);
  const opened = await bob.shares.openShare(id);
  steps.push("bob opened " + opened.title + ": " + opened.code);
  await Promise.all([alice.client.close(), bob.client.close()]);
  return { steps, code, opened: opened.code, shareId: id };
}
`;

// (a) Node: the Node entry (it has the file session store, which the browser entry has not).
const nodeMjs = `import * as sdk from "@osmynt/sdk";
import { scenario } from "./scenario.mjs";

const [url, tag] = process.argv.slice(2);
const result = await scenario(url, tag);
console.log(JSON.stringify({ ...result, entry: typeof sdk.fileSessionStore === "function" ? "node" : "browser" }));
`;

// (b) The page's script, bundled for the browser.
const browserMjs = `import * as sdk from "@osmynt/sdk";
import { scenario } from "./scenario.mjs";

window.runScenario = async (url, tag) => ({ ...(await scenario(url, tag)), entry: "fileSessionStore" in sdk ? "node" : "browser" });
window.ready = true;
`;

let work: string;
let project: string;
let bundle: { code: string; metafile: Metafile };

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: this end-to-end test needs Debian's chromium (apt-get update && apt-get install -y chromium)`);
  work = await mkdtemp(path.join(tmpdir(), "osmynt-packed-sdk-"));
  project = path.join(work, "project");

  await installPackedSdk({
    work,
    project,
    name: "outside-app",
    files: { "scenario.mjs": scenarioMjs, "node.mjs": nodeMjs, "browser.mjs": browserMjs },
    timeoutMs: 300_000,
  });

  // The project's own bundle: esbuild resolves @osmynt/sdk in the project's node_modules, with
  // the browser platform's conditions (browser, import, default), as any app's bundler would.
  const result = await build({
    entryPoints: [path.join(project, "browser.mjs")],
    absWorkingDir: project,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  bundle = { code: result.outputFiles[0]?.text ?? "", metafile: result.metafile };
}, 600_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("the packed SDK in a project outside the workspace", { timeout: 180_000 }, () => {
  it("(a) Node: dev sign-in, a team, devices, a share opened after its live event", async () => {
    const server = await startServer();
    try {
      const tag = randomLogin("node");
      const result = ok(await run("node", ["node.mjs", server.url, tag], { cwd: project, timeoutMs: 120_000 }), "node node.mjs");
      const answer = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "{}");
      expect(answer.entry).toBe("node");
      expect(answer.opened).toBe(answer.code);
      expect(answer.code).toContain(`code of ${tag}`);
      expect(answer.steps).toEqual([
        `signed in alice-${tag} and bob-${tag}`,
        `bob joined Packed ${tag}: true`,
        `alice shared ${answer.shareId}`,
        `bob heard share.created ${answer.shareId}`,
        `bob opened secret.ts: ${answer.code}`,
      ]);
    } finally {
      await server.close();
    }
  });

  it("the browser bundle took the browser entry: no ws, no file stores, no Node module", () => {
    const inputs = Object.keys(bundle.metafile.inputs);
    const sdkInputs = inputs.filter((f) => f.includes("node_modules/@osmynt/sdk/"));
    expect(sdkInputs).toEqual(expect.arrayContaining(["node_modules/@osmynt/sdk/dist/browser.js"]));
    expect(sdkInputs).toContain("node_modules/@osmynt/sdk/dist/platform/websocket.browser.js");
    for (const absent of [
      "dist/index.js",
      "dist/session-store.js",
      "dist/platform/websocket.node.js",
      "dist/crypto/file-key-store.js",
      "dist/cli.js",
    ]) {
      expect(sdkInputs).not.toContain(`node_modules/@osmynt/sdk/${absent}`);
    }
    expect(inputs.filter((f) => f.includes("node_modules/ws/"))).toEqual([]);
    const external = Object.values(bundle.metafile.inputs).flatMap((input) => input.imports.filter((i) => i.external).map((i) => i.path));
    // Only @hpke/common's guarded `import("crypto")`, which runs where there is no Web Crypto (never in a browser).
    expect(external.filter((p) => p !== "crypto")).toEqual([]);
  });

  it("(b) browser: the bundled page in headless Chromium signs in, shares, hears the live event and opens the share", async () => {
    // The page has an origin of its own, so the server must list it in CORS_ORIGINS for its fetch
    // calls and its WebSocket: what a real web app's deployment does. devLogin's guards stay on.
    const page = await servePage(bundle.code);
    const server = await startServer({ env: { CORS_ORIGINS: page.origin } });
    const userDataDir = await mkdtemp(path.join(tmpdir(), "osmynt-packed-chromium-"));
    const browser: BrowserContext = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"],
    });
    try {
      const tab = await browser.newPage();
      const failures: string[] = [];
      tab.on("pageerror", (error) => failures.push(error.message));
      const sockets: string[] = [];
      tab.on("websocket", (ws) => sockets.push(ws.url()));
      await tab.goto(`${page.origin}/`);
      await tab.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
      const tag = randomLogin("web");
      const answer = await tab.evaluate(
        ([url, t]) =>
          (window as unknown as { runScenario: (u: string, t: string) => Promise<any> }).runScenario(url as string, t as string),
        [server.url, tag],
      );
      expect(answer.entry).toBe("browser");
      expect(answer.opened).toBe(answer.code);
      expect(answer.code).toContain(`code of ${tag}`);
      expect(answer.steps).toEqual([
        `signed in alice-${tag} and bob-${tag}`,
        `bob joined Packed ${tag}: true`,
        `alice shared ${answer.shareId}`,
        `bob heard share.created ${answer.shareId}`,
        `bob opened secret.ts: ${answer.code}`,
      ]);
      // The live event came over the browser's own WebSocket, from the page's origin.
      expect(sockets.some((url) => url.startsWith(server.wsUrl))).toBe(true);
      expect(failures).toEqual([]);
    } finally {
      await browser.close();
      await rm(userDataDir, { recursive: true, force: true });
      await server.close();
      await page.close();
    }
  });

  it("(b) without its origin in CORS_ORIGINS the same page cannot sign in: devLogin's guard is not weakened", async () => {
    const page = await servePage(bundle.code);
    const server = await startServer();
    const userDataDir = await mkdtemp(path.join(tmpdir(), "osmynt-packed-chromium-"));
    const browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"],
    });
    try {
      const tab = await browser.newPage();
      await tab.goto(`${page.origin}/`);
      await tab.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
      const outcome = await tab.evaluate(
        ([url]) =>
          (window as unknown as { runScenario: (u: string, t: string) => Promise<unknown> }).runScenario(url as string, "nocors").then(
            () => "signed in",
            (error: Error) => `refused: ${error.message}`,
          ),
        [server.url],
      );
      // The browser refuses to hand the page the answer (no CORS header for its origin).
      expect(outcome).toMatch(/^refused: .*fetch/i);
    } finally {
      await browser.close();
      await rm(userDataDir, { recursive: true, force: true });
      await server.close();
      await page.close();
    }
  });
});

/** A tiny static server for the test page: its own origin, like any web app's. */
async function servePage(code: string): Promise<{ origin: string; close: () => Promise<void> }> {
  const server: Server = createServer((request, response) => {
    if (request.url === "/app.js") response.writeHead(200, { "content-type": "text/javascript" }).end(code);
    else
      response
        .writeHead(200, { "content-type": "text/html" })
        .end(`<!doctype html><title>outside app</title><script type="module" src="/app.js"></script>`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
