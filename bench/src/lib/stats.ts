/** Small statistics over samples: medians of runs, percentiles of latencies. */

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile (p in 0..100) of the values; NaN for none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

/** Median of each numeric field over a list of samples with the same fields. */
export function medianOf<T extends Record<string, number>>(samples: T[]): T {
  const out: Record<string, number> = {};
  for (const key of Object.keys(samples[0] ?? {})) out[key] = median(samples.map((s) => s[key] as number));
  return out as T;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(check: () => boolean, timeoutMs: number, everyMs = 20): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) return false;
    await sleep(everyMs);
  }
  return true;
}
