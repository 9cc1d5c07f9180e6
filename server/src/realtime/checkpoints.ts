/** A stream the sweep looks at: it sends a checkpoint if it has been quiet for a period. */
export interface QuietStream {
  /** Called by the sweep; `now` is the sweep's clock. */
  checkpointIfQuiet(now: number, periodMs: number): void;
}

export interface CheckpointSweep {
  add(stream: QuietStream): void;
  delete(stream: QuietStream): void;
  stop(): void;
}

/**
 * One timer for the instance instead of one per waiting stream: every quarter period it asks each
 * open stream whether it has been quiet for a whole period, so a quiet stream gets its checkpoint
 * between one and one and a quarter periods after its last event, and an idle stream costs no
 * timer and no promise of its own. The timer runs only while streams are open.
 */
export function createCheckpointSweep(periodMs: number): CheckpointSweep {
  const streams = new Set<QuietStream>();
  let timer: NodeJS.Timeout | undefined;
  const sweep = () => {
    const now = Date.now();
    for (const stream of streams) stream.checkpointIfQuiet(now, periodMs);
  };
  return {
    add(stream) {
      streams.add(stream);
      if (!timer) {
        timer = setInterval(sweep, Math.max(1, Math.floor(periodMs / 4)));
        timer.unref();
      }
    },
    delete(stream) {
      streams.delete(stream);
      if (streams.size === 0 && timer) {
        clearInterval(timer);
        timer = undefined;
      }
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
      streams.clear();
    },
  };
}
