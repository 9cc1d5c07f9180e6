import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createOsmyntClient, type OsmyntClient } from "@osmynt/sdk";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomLogin } from "../helpers/factories.js";
import { type FakeGitHub, startFakeGitHub } from "../helpers/fake-github.js";
import { rowsForLogin } from "../helpers/rows.js";
import { expectNoSecretsInLogs } from "../helpers/secret-scan.js";
import { startServer, type TestServer } from "../helpers/server.js";

/** Debian's `chromium` package; `.ci/run` installs it. Never downloaded by Playwright. */
const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = path.resolve(import.meta.dirname, "../artifacts");

let fake: FakeGitHub;
let server: TestServer;
let browser: BrowserContext;
let userDataDir: string;
const clients: OsmyntClient[] = [];
const seen: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: this end-to-end test needs Debian's chromium (apt-get update && apt-get install -y chromium)`);
  fake = await startFakeGitHub();
  server = await startServer({ env: { ...fake.env(), LOG_LEVEL: "debug" } });
  userDataDir = mkdtempSync(path.join(tmpdir(), "osmynt-chromium-"));
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});
afterAll(async () => {
  for (const client of clients) await client.close();
  await browser?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  await server?.close();
  await fake?.close();
});

/** What an editor's `openUrl` does, with a real browser: open the page and let the person decide on GitHub. */
function browserThatClicks(button: "#approve" | "#deny", pages: Page[]) {
  return async (url: string) => {
    const page = await browser.newPage();
    page.setDefaultTimeout(20_000);
    pages.push(page);
    await page.goto(url);
    await page.click(button);
    await page.waitForURL(/\/auth\/github\/callback\?/);
    await page.locator("#result").waitFor();
  };
}

describe("signInWithBrowser through headless Chromium and a fake GitHub", () => {
  it("follows the authorize URL through GitHub's consent to the callback page; the SDK gets the session live", async () => {
    const github = fake.addUser({ login: randomLogin("gh"), name: "Browser User", email: "browser@example.test" });
    const client = createOsmyntClient({ url: server.url });
    clients.push(client);
    const pages: Page[] = [];

    const session = await client.signInWithBrowser({ openUrl: browserThatClicks("#approve", pages) });
    seen.push(session.accessToken, session.refreshToken);
    expect(session.user).toMatchObject({ login: github.login, name: "Browser User", email: "browser@example.test" });
    expect(await client.getSession()).toEqual(session);
    expect((await client.auth.me.query()).login).toBe(github.login);

    const page = pages[0] as Page;
    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = path.join(ARTIFACTS, "github-sign-in-success.png");
    rmSync(shot, { force: true });
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(2000);
    expect(await page.locator("#result").textContent()).toMatch(new RegExp(`signed in as ${github.login}`, "i"));
    expect(await page.title()).toBe("Signed in · Osmynt");
    const content = await page.content();
    for (const secret of [session.accessToken, session.refreshToken, ...fake.issuedTokens()]) {
      expect(content).not.toContain(secret);
      expect(page.url()).not.toContain(secret);
    }
    // Delivered by the onComplete subscription (WebSocket), so the HTTP retrieve was never needed
    // (the request log names every HTTP procedure called, as init shows).
    const requestLog = server.logs.join("\n");
    expect(requestLog).toContain("/trpc/auth.handshake.init");
    expect(requestLog).not.toContain("auth.handshake.retrieve");
    expect(await rowsForLogin(server, github.login)).toEqual({ users: 1, sessions: 1, activeSessions: 1 });
  });

  it("denied on GitHub: the page says so, signInWithBrowser rejects with the reason, nothing is created", async () => {
    const github = fake.addUser({ login: randomLogin("gh") });
    const client = createOsmyntClient({ url: server.url });
    clients.push(client);
    const pages: Page[] = [];
    await expect(client.signInWithBrowser({ openUrl: browserThatClicks("#deny", pages) })).rejects.toThrow(
      /sign-in was declined on GitHub/,
    );
    expect(await pages[0]?.locator("#result").textContent()).toMatch(/You declined access on GitHub/);
    expect(await client.getSession()).toBeNull();
    expect(await rowsForLogin(server, github.login)).toEqual({ users: 0, sessions: 0, activeSessions: 0 });
  });

  it("logged no token", () => {
    expectNoSecretsInLogs(server.logs, [...seen, ...fake.issuedTokens()]);
  });
});
