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

/** Opens the sign-in link in a fresh tab and waits for the confirmation page. */
async function openConfirmation(url: string, pages: Page[], context: BrowserContext = browser): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  pages.push(page);
  await page.goto(url);
  await page.locator("#code").waitFor();
  return page;
}

/** Types a code into the confirmation page, as a person would, and submits it. */
async function typeCode(page: Page, code: string) {
  await page.fill("#code", code);
  await Promise.all([page.waitForNavigation(), page.click("#continue")]);
}

/**
 * What an editor's `openUrl` does, with a real browser and a person: open the page, type the code
 * the editor shows, and decide on GitHub.
 */
function browserThatClicks(button: "#approve" | "#deny", pages: Page[], shot?: string) {
  return async (url: string, userCode: string) => {
    const page = await openConfirmation(url, pages);
    if (shot) await page.screenshot({ path: shot, fullPage: true });
    await typeCode(page, userCode);
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
    mkdirSync(ARTIFACTS, { recursive: true });
    const confirmShot = path.join(ARTIFACTS, "github-sign-in-confirm.png");
    rmSync(confirmShot, { force: true });

    const session = await client.signInWithBrowser({ openUrl: browserThatClicks("#approve", pages, confirmShot) });
    expect(statSync(confirmShot).size).toBeGreaterThan(2000);
    seen.push(session.accessToken, session.refreshToken);
    expect(session.user).toMatchObject({ login: github.login, name: "Browser User", email: "browser@example.test" });
    expect(await client.getSession()).toEqual(session);
    expect((await client.auth.me.query()).login).toBe(github.login);

    const page = pages[0] as Page;
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

  it("the confirmation page asks for the code: a wrong code does not continue, and too many kill the handshake", async () => {
    const github = fake.addUser({ login: randomLogin("gh") });
    const client = createOsmyntClient({ url: server.url });
    clients.push(client);
    const pages: Page[] = [];
    const shown: string[] = [];
    const signingIn = client.signInWithBrowser({
      openUrl: async (url, userCode) => {
        shown.push(userCode);
        const page = await openConfirmation(url, pages);
        expect(await page.textContent("main")).toMatch(/Type the code your editor is showing/);
        const wrong = userCode.startsWith("B") ? `C${userCode.slice(1)}` : `B${userCode.slice(1)}`;
        for (let left = 4; left >= 1; left--) {
          await typeCode(page, wrong);
          expect(page.url()).toBe(`${server.url}/auth/github/start`);
          expect(await page.locator("#result").textContent()).toContain(`That code does not match. ${left}`);
        }
        await typeCode(page, wrong);
        expect(await page.locator("#result").textContent()).toMatch(/Too many wrong codes: this sign-in is cancelled/);
      },
    });
    await expect(signingIn).rejects.toThrow(/too many wrong codes were typed on the sign-in page/);
    expect(shown[0]).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(await client.getSession()).toBeNull();
    expect(await rowsForLogin(server, github.login)).toEqual({ users: 0, sessions: 0, activeSessions: 0 });
  });

  it("a second browser that opens the same link without the editor's code cannot complete it; the editor's own can", async () => {
    const github = fake.addUser({ login: randomLogin("gh") });
    const client = createOsmyntClient({ url: server.url });
    clients.push(client);
    const pages: Page[] = [];
    const secondDir = mkdtempSync(path.join(tmpdir(), "osmynt-chromium-2-"));
    const second = await chromium.launchPersistentContext(secondDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
    });
    try {
      const session = await client.signInWithBrowser({
        openUrl: async (url, userCode) => {
          // Someone the link was forwarded to: no editor of theirs shows this handshake's code.
          const stranger = await openConfirmation(url, pages, second);
          await typeCode(stranger, "WDJB-MJHT");
          expect(stranger.url()).not.toContain("/login/oauth/authorize");
          expect(await stranger.locator("#result").textContent()).toContain("That code does not match");
          await browserThatClicks("#approve", pages)(url, userCode);
        },
      });
      seen.push(session.accessToken, session.refreshToken);
      expect(session.user.login).toBe(github.login);
    } finally {
      await second.close();
      rmSync(secondDir, { recursive: true, force: true });
    }
  });

  it("logged no token", () => {
    expectNoSecretsInLogs(server.logs, [...seen, ...fake.issuedTokens()]);
  });
});
