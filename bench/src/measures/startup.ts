/**
 * (e) Embedded start: the production start command (`node --import tsx server/src/main.ts`, the
 * default embedded PGlite in a fresh data folder, then again on that folder) from spawn to the
 * first 200 from `/ready`, and the RSS after a few idle seconds, against a bare Fastify server
 * started the same way.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Measure, Row } from "../lib/measure.js";
import { median, sleep } from "../lib/stats.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const bareServer = fileURLToPath(new URL("../servers/bare-fastify.ts", import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? Number.NaN) * 1024;
}

/** Spawns `script` and returns ms to the first 200 from /ready and RSS after `idleMs`. */
async function startOnce(script: string, env: Record<string, string>, idleMs: number): Promise<{ ready: number; rss: number }> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, ["--conditions=osmynt-source", "--import", "tsx", script], {
    cwd: repoRoot,
    env: { ...process.env, ...env, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode} before it was ready`);
      const ok = await fetch(`http://127.0.0.1:${port}/ready`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      if (performance.now() - t0 > 60_000) throw new Error(`${script} not ready within 60 s`);
      await sleep(10);
    }
    const ready = performance.now() - t0;
    await sleep(idleMs);
    return { ready, rss: await rssOf(child.pid as number) };
  } finally {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
}

export const startup: Measure = {
  name: "startup",
  title: "(e) embedded start to /ready and idle RSS vs bare Fastify",
  async run(options) {
    const idleMs = options.quick ? 1000 : 5000;
    const s = { fresh: [] as number[], restart: [] as number[], rss: [] as number[], bare: [] as number[], bareRss: [] as number[] };
    for (let r = 0; r < options.runs; r++) {
      options.log(`startup: run ${r + 1}/${options.runs}`);
      const bare = await startOnce(bareServer, {}, idleMs);
      s.bare.push(bare.ready);
      s.bareRss.push(bare.rss);
      const dataDir = await mkdtemp(join(tmpdir(), "osmynt-bench-"));
      try {
        const env = { OSMYNT_DATA_DIR: dataDir, DATABASE_URL: "", REDIS_URL: "", NODE_ENV: "development" };
        s.fresh.push((await startOnce("server/src/main.ts", env, 0)).ready);
        const again = await startOnce("server/src/main.ts", env, idleMs);
        s.restart.push(again.ready);
        s.rss.push(again.rss);
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    }
    const base = "bare Fastify, same start command";
    return [
      {
        measure: "start to /ready, fresh data folder (embedded)",
        engine: median(s.fresh),
        baseline: median(s.bare),
        baselineName: base,
        unit: "ms",
        better: "lower",
      },
      {
        measure: "start to /ready, restart (embedded)",
        engine: median(s.restart),
        baseline: median(s.bare),
        baselineName: base,
        unit: "ms",
        better: "lower",
      },
      {
        measure: `idle RSS after ${idleMs / 1000} s (embedded)`,
        engine: median(s.rss) / 2 ** 20,
        baseline: median(s.bareRss) / 2 ** 20,
        baselineName: base,
        unit: "MiB",
        better: "lower",
      },
    ] satisfies Row[];
  },
};
