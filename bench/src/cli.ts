/**
 * The benchmark suite: `pnpm bench [--quick] [--runs N] [--profile] [measure…]`. Every measure runs its
 * servers as processes of their own (the load clients are this process) and reports, for each
 * figure, the engine and a baseline measured in the same run, interleaved, as medians of the runs.
 * Prints a Markdown table (paste it into bench/BENCHMARKS.md with the machine and its load).
 * It asserts nothing about speed: it fails only when a measure cannot run or its wire check fails.
 * `--profile` runs V8's CPU profiler (what `node --cpu-prof` runs) in every engine process over
 * its measured window and prints each profile's top self-time entries after the table.
 */
import { mkdtemp } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import type { Measure, Row } from "./lib/measure.js";
import { summarizeProfiles } from "./lib/profile.js";
import { fanout } from "./measures/fanout.js";
import { idleMemory } from "./measures/idle-memory.js";
import { original } from "./measures/original.js";
import { peak } from "./measures/peak.js";
import { redis } from "./measures/redis.js";
import { routing } from "./measures/routing.js";
import { rpc } from "./measures/rpc.js";
import { shares } from "./measures/shares.js";
import { startup } from "./measures/startup.js";
import { writes } from "./measures/writes.js";

/** Add a measure here: its `name` is also the argument that selects it. */
const measures: Measure[] = [fanout, peak, routing, redis, rpc, writes, idleMemory, startup, shares, original];

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const profileDir = args.includes("--profile") ? await mkdtemp(join(tmpdir(), "osmynt-bench-profile-")) : null;
// Read by lib/processes.ts, which names each engine process's profile (lib/serve.ts writes it).
if (profileDir) process.env.BENCH_PROFILE_DIR = profileDir;
const runsAt = args.indexOf("--runs");
const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : quick ? 1 : 3;
const names = args.filter((a, i) => !a.startsWith("--") && args[i - 1] !== "--runs");
const unknown = names.filter((n) => !measures.some((m) => m.name === n));
if (unknown.length > 0) {
  console.error(`unknown measure ${unknown.join(", ")}; known: ${measures.map((m) => m.name).join(", ")}`);
  process.exit(2);
}
const selected = names.length > 0 ? measures.filter((m) => names.includes(m.name)) : measures;
const databaseUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

const fmt = (value: number) =>
  Number.isNaN(value) ? "—" : Math.abs(value) >= 100 || Number.isInteger(value) ? value.toFixed(0) : value.toFixed(value >= 10 ? 1 : 2);

function ratio(row: Row): string {
  if (row.baseline === 0) return row.engine === 0 ? "1.00" : "—";
  return (row.engine / row.baseline).toFixed(2);
}

const started = Date.now();
const rows: Row[] = [];
for (const measure of selected) {
  console.error(`== ${measure.name}: ${measure.title}`);
  const t0 = Date.now();
  rows.push(...(await measure.run({ quick, runs, databaseUrl, log: (m) => console.error(`   ${m}`) })));
  console.error(`   (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

const [load1, load5] = loadavg();
console.log(
  `\n${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}; ` +
    `load average at the end ${load1?.toFixed(2)} / ${load5?.toFixed(2)} (1 / 5 min); ${quick ? "--quick, " : ""}${runs} run(s) each, medians; ` +
    `${((Date.now() - started) / 1000).toFixed(0)} s\n`,
);
console.log("| measure | engine | baseline | ratio (engine / baseline) | unit | better | note |");
console.log("|---|---|---|---|---|---|---|");
for (const row of rows) {
  console.log(
    `| ${row.measure} | ${fmt(row.engine)} | ${fmt(row.baseline)} (${row.baselineName}) | ${ratio(row)} | ${row.unit} | ${row.better} | ${row.note ?? ""} |`,
  );
}
if (profileDir) console.log(await summarizeProfiles(profileDir));
process.exit(0);
