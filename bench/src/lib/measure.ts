/** What every measure script returns: rows of the table `pnpm bench` prints. */
export interface Row {
  /** What was measured, with its setting (sizes, backend). */
  measure: string;
  /** The engine's figure (median of the runs). */
  engine: number;
  /** The baseline's figure, measured in the same run, interleaved with the engine's. */
  baseline: number;
  /** What the baseline is (raw `ws` broadcast, raw Fastify route, …). */
  baselineName: string;
  unit: string;
  /** Which way is better: the ratio engine/baseline reads as a slowdown or a speed-up accordingly. */
  better: "higher" | "lower";
  note?: string;
}

export interface MeasureOptions {
  quick: boolean;
  /** Interleaved runs per figure (the median is reported). */
  runs: number;
  /** PostgreSQL admin URL for measures that need a real database (a fresh one is created and dropped). */
  databaseUrl: string;
  log: (message: string) => void;
}

export interface Measure {
  /** The command's name: `pnpm bench <name>` / `pnpm bench:<name>`. */
  name: string;
  title: string;
  run(options: MeasureOptions): Promise<Row[]>;
}
