import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { backend } from "../helpers/backend.js";
import { type EngineProcess, exitOf, startEngineProcess, waitReady } from "../helpers/engine-process.js";

// The embedded data folder (DATABASE_URL unset): what start-up says when it cannot be used.
const engines: EngineProcess[] = [];
const folders: string[] = [];
afterAll(async () => {
  for (const e of engines) await e.stop();
  for (const f of folders) await rm(f, { recursive: true, force: true });
});

async function folder() {
  const dir = await mkdtemp(join(tmpdir(), "osmynt-datadir-"));
  folders.push(dir);
  return dir;
}

async function engine(dataDir: string, spawnAs?: { uid: number; gid: number }) {
  const e = await startEngineProcess({ OSMYNT_DATA_DIR: dataDir, DATABASE_URL: "", REDIS_URL: "" }, spawnAs ? { spawn: spawnAs } : {});
  engines.push(e);
  return e;
}

describe.runIf(backend === "embedded")("the embedded data folder at start-up", () => {
  it("a second engine on a folder in use exits with a clear error; it starts once the first has stopped", async () => {
    const dataDir = await folder();
    const first = await engine(dataDir);
    await waitReady(first);

    const second = await engine(dataDir);
    const refused = await exitOf(second);
    expect(refused.code, refused.output).toBe(1);
    expect(refused.output).toMatch(/osmynt engine could not start: OSMYNT_DATA_DIR .* is in use by another engine process/);
    expect(refused.output).not.toMatch(/at .*\.ts:\d+/); // a sentence, not a stack trace
    expect((await fetch(`${first.url}/ready`)).status).toBe(200);

    expect(await first.stop()).toEqual({ code: 0, signal: null });
    const third = await engine(dataDir);
    await waitReady(third);
    expect(await third.stop()).toEqual({ code: 0, signal: null });
  }, 400_000);

  it("a folder the engine may not write to exits with a clear error", async () => {
    const parent = await folder();
    const dataDir = join(parent, "data");
    // Root writes anywhere: run the engine as nobody then (a chmod alone would not stop it).
    await chmod(parent, 0o555);
    const asRoot = process.getuid?.() === 0;
    const e = await engine(dataDir, asRoot ? { uid: 65534, gid: 65534 } : undefined);
    const refused = await exitOf(e);
    await chmod(parent, 0o755);
    expect(refused.code, refused.output).toBe(1);
    expect(refused.output).toMatch(
      /osmynt engine could not start: OSMYNT_DATA_DIR .*data cannot be used: this process may not write there/,
    );
  }, 120_000);

  it("a file where the folder should be exits with a clear error", async () => {
    const parent = await folder();
    const { writeFile } = await import("node:fs/promises");
    await writeFile(join(parent, "file"), "not a folder");
    const refused = await exitOf(await engine(join(parent, "file", "data")));
    expect(refused.code, refused.output).toBe(1);
    expect(refused.output).toMatch(/OSMYNT_DATA_DIR .* cannot be used: a file is in the way of the folder/);
  }, 120_000);
});
