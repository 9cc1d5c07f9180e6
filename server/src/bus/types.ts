/**
 * What travels on the bus: only "the event log advanced up to `maxId`". Events themselves are
 * always read from the database, so a lost notification costs latency, never an event.
 */
export interface LogAdvanced {
  maxId: number;
}

export type BusStatus = "up" | "down";

export interface EventBus {
  readonly kind: "memory" | "redis";
  /** Fire and forget: never throws and never waits for the network. */
  publish(note: LogAdvanced): void;
  /** Notifications from every instance (this one included). Returns the unsubscribe function. */
  subscribe(listener: (note: LogAdvanced) => void): () => void;
  /** Told when notifications stop or resume flowing; readers poll the log while they are down. */
  onStatus(listener: (status: BusStatus) => void): () => void;
  status(): BusStatus;
  /** Throws (naming the problem) when the bus cannot be reached within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}
