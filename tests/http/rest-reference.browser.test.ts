import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../helpers/server.js";

/** Debian's `chromium` package; `.ci/run` installs it. Never downloaded by Playwright. */
const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = path.resolve(import.meta.dirname, "../artifacts");

let server: TestServer;
let browser: BrowserContext;
let userDataDir: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: this end-to-end test needs Debian's chromium (apt-get update && apt-get install -y chromium)`);
  server = await startServer();
  userDataDir = mkdtempSync(path.join(tmpdir(), "osmynt-chromium-"));
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  await server?.close();
});

describe("/reference in headless Chromium", () => {
  it("renders the Scalar reference of /doc from this server alone, and saves a screenshot", async () => {
    const page = await browser.newPage();
    page.setDefaultTimeout(30_000);
    const foreign: string[] = [];
    const failures: string[] = [];
    page.on("request", (request) => {
      const url = request.url();
      if (!url.startsWith(server.url) && !url.startsWith("data:") && !url.startsWith("blob:")) foreign.push(url);
    });
    page.on("pageerror", (error) => failures.push(error.message));

    const response = await page.goto(`${server.url}/reference`);
    expect(response?.status()).toBe(200);
    await expect(page.title()).resolves.toBe("Osmynt Engine API reference");
    // The document's title and operations, rendered by Scalar's script (served by this server).
    await page.getByRole("heading", { name: "Osmynt Engine API" }).first().waitFor();
    await page.getByText("teams.invites.create").first().waitFor();
    await page.getByText("/api/v1/auth/me").first().waitFor({ state: "attached" });
    const text = (await page.locator("body").textContent()) ?? "";
    expect(text).toMatch(/Authorization: Bearer <accessToken>/);
    expect(text).toMatch(/teams\.invites\.create/);

    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = path.join(ARTIFACTS, "rest-reference.png");
    await page.screenshot({ path: shot, fullPage: false });
    expect(statSync(shot).size).toBeGreaterThan(10_000);

    // Everything came from this server: nothing fetched from a CDN at run time.
    expect(foreign).toEqual([]);
    expect(failures).toEqual([]);
  });
});
