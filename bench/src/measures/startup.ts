/**
 * (e) Start-up and memory: the production start command (`node server/dist/main.js`, built first
 * with `pnpm build:server`) from spawn to the first 200 from `/ready`, the CPU the process used
 * until then (user + system, from /proc: steadier than wall time on a loaded machine), and its RSS
 * after idling; on the embedded default in a fresh data folder and again on that folder (restart),
 * and on PostgreSQL on a migrated database. Baseline: a bare Fastify server started the same way
 * (`node` on JavaScript), interleaved with each engine run.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freshDatabase, postgresReachable } from "../lib/database.js";
import type { Measure, Row } from "../lib/measure.js";
import { median, sleep } from "../lib/stats.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const bareServer = fileURLToPath(new URL("../servers/bare-fastify.mjs", import.meta.url));
const engineMain = join(repoRoot, "server/dist/main.js");

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

/** User + system CPU of `pid` and its waited-for children so far, in ms (USER_HZ is 100 on Linux). */
async function cpuOf(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]?.split(" ") ?? [];
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) * 10;
}

interface Start {
  ready: number;
  cpu: number;
  rss: number;
}

/** Spawns `node script`; ms to the first 200 from /ready, CPU ms used by then, RSS after `idleMs`. */
async function startOnce(script: string, env: Record<string, string>, idleMs: number): Promise<Start> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, [script], {
    cwd: repoRoot,
    env: { ...process.env, ...env, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn" },
    stdio: ["ignore", "ignore", "ignore"],
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode} before it was ready`);
      const ok = await fetch(`http://127.0.0.1:${port}/ready`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      if (performance.now() - t0 > 120_000) throw new Error(`${script} not ready within 120 s`);
      await sleep(10);
    }
    const ready = performance.now() - t0;
    const cpu = await cpuOf(child.pid as number);
    await sleep(idleMs);
    return { ready, cpu, rss: await rssOf(child.pid as number) };
  } finally {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
}

type Series = Record<"ready" | "cpu" | "rss", number[]>;
const series = (): Series => ({ ready: [], cpu: [], rss: [] });
function push(s: Series, start: Start) {
  s.ready.push(start.ready);
  s.cpu.push(start.cpu);
  s.rss.push(start.rss);
}

export const startup: Measure = {
  name: "startup",
  title: "(e) production start (node server/dist/main.js) to /ready, its CPU and idle RSS, vs bare Fastify",
  async run(options) {
    options.log("startup: pnpm build:server");
    execFileSync(process.execPath, [join(repoRoot, "server/scripts/build.mjs")], { cwd: repoRoot, stdio: "inherit" });
    const idleMs = options.quick ? 1000 : 5000;
    const pg = (await postgresReachable(options.databaseUrl)) ? await freshDatabase(options.databaseUrl) : undefined;
    if (!pg) options.log(`startup: PostgreSQL not reachable at ${options.databaseUrl}; embedded only`);
    const s = { bare: series(), fresh: series(), restart: series(), postgres: series() };
    try {
      if (pg) await startOnce(engineMain, { DATABASE_URL: pg.url, REDIS_URL: "", NODE_ENV: "development" }, 0); // migrates it
      for (let r = 0; r < options.runs; r++) {
        options.log(`startup: run ${r + 1}/${options.runs}`);
        push(s.bare, await startOnce(bareServer, {}, idleMs));
        const dataDir = await mkdtemp(join(tmpdir(), "osmynt-bench-"));
        try {
          const env = { OSMYNT_DATA_DIR: dataDir, DATABASE_URL: "", REDIS_URL: "", NODE_ENV: "development" };
          push(s.fresh, await startOnce(engineMain, env, idleMs));
          push(s.restart, await startOnce(engineMain, env, idleMs));
        } finally {
          await rm(dataDir, { recursive: true, force: true });
        }
        if (pg) push(s.postgres, await startOnce(engineMain, { DATABASE_URL: pg.url, REDIS_URL: "", NODE_ENV: "development" }, idleMs));
      }
    } finally {
      await pg?.drop();
    }
    const base = "bare Fastify, `node` on JavaScript";
    const rows: Row[] = [];
    const cases: [string, Series][] = [
      ["embedded, fresh data folder", s.fresh],
      ["embedded, restart", s.restart],
      ...(pg ? ([["PostgreSQL, migrated database", s.postgres]] as [string, Series][]) : []),
    ];
    for (const [name, e] of cases) {
      const row = (measure: string, key: keyof Series, unit: string, scale = 1): Row => ({
        measure: `${measure} (${name})`,
        engine: median(e[key]) / scale,
        baseline: median(s.bare[key]) / scale,
        baselineName: base,
        unit,
        better: "lower",
      });
      rows.push(
        row("start to /ready", "ready", "ms"),
        row("CPU to /ready", "cpu", "ms"),
        row(`RSS after ${idleMs / 1000} s idle`, "rss", "MiB", 2 ** 20),
      );
    }
    return rows;
  },
};
