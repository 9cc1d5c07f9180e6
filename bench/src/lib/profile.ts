import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** One line of a profile's summary: a function and the share of the process's busy time spent in it. */
export interface ProfileEntry {
  functionName: string;
  /** Path relative to the repository (or `pkg/…` inside node_modules, `node:…` for Node's own). */
  file: string;
  selfMs: number;
  /** Self time over all non-idle time of the profile. */
  percent: number;
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

function shortFile(url: string, line: number): string {
  if (!url) return "(native)";
  const path = url.replace(/^file:\/\//, "");
  const inModules = path.lastIndexOf("node_modules/");
  const short =
    inModules >= 0
      ? path.slice(inModules + "node_modules/".length).replace(/^\.pnpm\/[^/]+\/node_modules\//, "")
      : path.replace(repoRoot, "");
  return `${short}:${line + 1}`;
}

/**
 * Self time per function of a V8 `.cpuprofile` (what `node --cpu-prof` writes): each sample's
 * time delta goes to the function on top of the stack, summed by function and place.
 */
export function topEntries(profile: CpuProfile, limit: number): { entries: ProfileEntry[]; busyMs: number; idleMs: number } {
  const frameOf = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const self = new Map<string, { functionName: string; file: string; us: number }>();
  let idleUs = 0;
  let busyUs = 0;
  profile.samples.forEach((nodeId, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    const frame = frameOf.get(nodeId);
    if (!frame) return;
    if (frame.functionName === "(idle)") {
      idleUs += delta;
      return;
    }
    busyUs += delta;
    const file = shortFile(frame.url, frame.lineNumber);
    const key = `${frame.functionName}@${file}`;
    const entry = self.get(key) ?? { functionName: frame.functionName || "(anonymous)", file, us: 0 };
    entry.us += delta;
    self.set(key, entry);
  });
  const entries = [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, limit)
    .map((e) => ({ functionName: e.functionName, file: e.file, selfMs: e.us / 1000, percent: (e.us / Math.max(1, busyUs)) * 100 }));
  return { entries, busyMs: busyUs / 1000, idleMs: idleUs / 1000 };
}

/** Markdown tables of the top self-time entries of every profile in `dir` (one per engine process). */
export async function summarizeProfiles(dir: string, limit = 20): Promise<string> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".cpuprofile")).sort();
  if (files.length === 0) return `no CPU profile was written in ${dir}`;
  const parts: string[] = [];
  for (const file of files) {
    const { entries, busyMs, idleMs } = topEntries(JSON.parse(await readFile(join(dir, file), "utf8")), limit);
    parts.push(
      `\nEngine CPU profile ${join(dir, file)}: busy ${(busyMs / 1000).toFixed(1)} s, idle ${(idleMs / 1000).toFixed(1)} s; top ${entries.length} by self time\n`,
      "| function | file | self ms | % of busy |",
      "|---|---|---|---|",
      ...entries.map((e) => `| ${e.functionName} | ${e.file} | ${e.selfMs.toFixed(0)} | ${e.percent.toFixed(1)} |`),
    );
  }
  return parts.join("\n");
}
