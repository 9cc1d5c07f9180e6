import type { Unsubscribable } from "@trpc/server/observable";
import type { EventsOptions, OsmyntEvent, Subscribe, WireEvent } from "./event-types.js";
import { isAuthError, isTransient, streamError } from "./stream-errors.js";

export interface StreamDeps {
  subscribe: Subscribe;
  /** After UNAUTHORIZED: whether a different (refreshed) token is now worth one more try. */
  recover(): Promise<boolean>;
  onEnd(stream: EventStream): void;
}

/** Past this many unread events the stream unsubscribes, and subscribes again once half are read. */
const HIGH_WATER = 1000;
const backoffMs = (attempt: number) => Math.min(10_000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2);

/**
 * The iterator `client.events()` returns. It subscribes at once, so nothing committed after the
 * call is missed even if the loop starts later. Every event is taken once, by id: the transports
 * resume with the last id they received after a reconnect, this resubscribes from it after a
 * transient failure or after pausing for a slow reader, and drops any id it has already passed.
 */
export class EventStream implements AsyncIterableIterator<OsmyntEvent> {
  /** Resolves once the server has confirmed the subscription (or the stream ended before). */
  readonly ready: Promise<void>;
  readonly #deps: StreamDeps;
  readonly #signal: AbortSignal | undefined;
  readonly #queue: WireEvent[] = [];
  #received: bigint | null;
  #cursor: string | undefined;
  #sub: Unsubscribable | null = null;
  /** Bumped whenever the current subscription is dropped, so its late callbacks are ignored. */
  #generation = 0;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #paused = false;
  #recovered = false;
  #failure: { error: unknown } | null = null;
  #finished = false;
  #waiters: (() => void)[] = [];
  #markReady: () => void = () => {};
  readonly #onAbort = () => void this.return();

  constructor(deps: StreamDeps, options: EventsOptions = {}) {
    if (options.lastEventId !== undefined && !/^\d+$/.test(options.lastEventId)) {
      throw new TypeError(`lastEventId must be an event id received from the stream (got ${options.lastEventId})`);
    }
    this.#deps = deps;
    this.#signal = options.signal;
    this.#cursor = options.lastEventId;
    this.#received = options.lastEventId === undefined ? null : BigInt(options.lastEventId);
    this.ready = new Promise((resolve) => (this.#markReady = resolve));
    if (this.#signal?.aborted) this.#finish();
    else {
      this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
      this.#start();
    }
  }

  /** The id of the last event this iterator has handed out (or checkpoint passed): persist it to resume. */
  get lastEventId(): string | undefined {
    return this.#cursor;
  }

  /** Events received but not yet handed out: at most 1000, past which the stream pauses. */
  get buffered(): number {
    return this.#queue.length;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<OsmyntEvent, undefined>> {
    for (;;) {
      if (this.#finished) return { done: true, value: undefined };
      const event = this.#queue.shift();
      if (event) {
        this.#cursor = event.id;
        if (this.#paused && this.#queue.length <= HIGH_WATER / 2) {
          this.#paused = false;
          this.#start();
        }
        if (event.type !== "sync.checkpoint") return { done: false, value: event as OsmyntEvent };
        continue;
      }
      if (this.#failure) {
        const { error } = this.#failure;
        this.#finish();
        throw streamError(error, this.#cursor);
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Unsubscribes; what `break` in a `for await` calls. */
  async return(): Promise<IteratorResult<OsmyntEvent, undefined>> {
    this.#finish();
    return { done: true, value: undefined };
  }

  #start() {
    const generation = ++this.#generation;
    const live = () => generation === this.#generation;
    const sub = this.#deps.subscribe(this.#received === null ? undefined : { lastEventId: this.#received.toString() }, {
      onStarted: () => live() && this.#markReady(),
      onData: ({ id, data }) => live() && this.#push(BigInt(id), data),
      onError: (error) => live() && this.#lost(error),
      // Only a stream the server ended (or a closed client, which ends its streams first) completes.
      onComplete: () => live() && this.#lost(undefined),
    });
    if (live()) this.#sub = sub;
    else sub.unsubscribe();
  }

  #drop() {
    this.#generation++;
    this.#sub?.unsubscribe();
    this.#sub = null;
  }

  #push(id: bigint, event: WireEvent) {
    if (this.#received !== null && id <= this.#received) return;
    this.#received = id;
    this.#attempt = 0;
    this.#recovered = false;
    this.#queue.push(event);
    // Bounded memory for a reader that stopped: let the server hold the rest, in its log.
    if (this.#queue.length >= HIGH_WATER) {
      this.#paused = true;
      this.#drop();
    }
    this.#wake();
  }

  #lost(error: unknown) {
    this.#drop();
    if (error === undefined || isTransient(error)) {
      this.#timer = setTimeout(() => this.#start(), backoffMs(this.#attempt++));
    } else if (isAuthError(error) && !this.#recovered) {
      this.#recovered = true;
      this.#deps.recover().then(
        (renewed) => !this.#finished && (renewed ? this.#start() : this.#fail(error)),
        () => this.#fail(error),
      );
    } else this.#fail(error);
  }

  #fail(error: unknown) {
    this.#failure = { error };
    this.#markReady();
    this.#wake();
  }

  #finish() {
    if (this.#finished) return;
    this.#finished = true;
    this.#drop();
    clearTimeout(this.#timer);
    this.#queue.length = 0;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#markReady();
    this.#deps.onEnd(this);
    this.#wake();
  }

  #wake() {
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
}
