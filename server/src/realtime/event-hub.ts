import { type Database, type EventRow, eventHorizon, readEvents } from "@osmynt/db";
import type { Logger } from "pino";
import type { EventBus } from "../bus/index.js";

export interface EventHubOptions {
  db: Database;
  bus: EventBus;
  logger: Logger;
  /** Poll interval while the bus is down (notifications lost), in ms. */
  fallbackPollMs?: number;
  /** Safety-net poll interval while the bus is up, in ms. */
  idlePollMs?: number;
}

/** A subscription's place in the hub's audience index: its user and the teams it is routed. */
export interface AudienceSubscription {
  /** Routes these teams' events to it as well (idempotent); how many of them were not routed to it before. */
  addTeams(teamIds: Iterable<string>): number;
  close(): void;
}

export interface EventHub {
  /** Every committed event, once, in id order, from the moment of listening (instance-wide work). */
  listen(listener: (row: EventRow) => void): () => void;
  /**
   * The events of one audience, in id order, from the moment of subscribing: those addressed to
   * `userId`, those of the teams added, and the `team.memberJoined` naming `userId`, from which on
   * that team's events are routed to it too (before the next event, so none slips past). A
   * member's removal or the team's deletion stops the team's routing at that event. The caller
   * still decides what it may see; the index only spares it everybody else's events.
   */
  subscribe(userId: string, listener: (row: EventRow) => void): AudienceSubscription;
  /** The newest event id this instance has fanned out. */
  cursor(): number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const PAGE = 500;
/** How soon to look again when announced events are held back behind an older writer still in flight. */
const HELD_BACK_RETRY_MS = 25;

/**
 * One reader of the event log per instance. Bus notifications (or, while the bus is down, a
 * short poll) wake it; it reads the log after its cursor and routes each row to the subscriptions
 * of its audience only (by user and by team), so N subscribers cost one query per batch of events,
 * not N, an event costs its audience's subscriptions, not the instance's, and a lost
 * notification only delays delivery until the next poll.
 */
export function createEventHub(options: EventHubOptions): EventHub {
  const { db, bus } = options;
  const log = options.logger.child({ component: "event-hub" });
  const fallbackPollMs = options.fallbackPollMs ?? 500;
  const idlePollMs = options.idlePollMs ?? 5000;
  const listeners = new Set<(row: EventRow) => void>();
  type Sub = { userId: string; listener: (row: EventRow) => void; teams: Set<string> };
  const byUser = new Map<string, Set<Sub>>();
  const byTeam = new Map<string, Set<Sub>>();
  const index = <K>(map: Map<K, Set<Sub>>, key: K, sub: Sub) => {
    let set = map.get(key);
    if (!set) {
      set = new Set();
      map.set(key, set);
    }
    set.add(sub);
  };
  const unindex = <K>(map: Map<K, Set<Sub>>, key: K, sub: Sub) => {
    const set = map.get(key);
    set?.delete(sub);
    if (set?.size === 0) map.delete(key);
  };
  const addTeam = (sub: Sub, teamId: string) => {
    sub.teams.add(teamId);
    index(byTeam, teamId, sub);
  };
  const dropTeam = (sub: Sub, teamId: string) => {
    sub.teams.delete(teamId);
    unindex(byTeam, teamId, sub);
  };

  /** Membership changes move routing in log order: a join starts the team's events, a removal stops them. */
  function route(row: EventRow) {
    const subject = typeof row.payload.userId === "string" ? row.payload.userId : undefined;
    if (row.teamId && subject && row.type === "team.memberJoined") {
      for (const sub of byUser.get(subject) ?? []) addTeam(sub, row.teamId);
    } else if (row.teamId && subject && row.type === "team.memberLeft") {
      for (const sub of [...(byUser.get(subject) ?? [])]) dropTeam(sub, row.teamId);
    } else if (row.teamId && row.type === "team.deleted") {
      for (const sub of [...(byTeam.get(row.teamId) ?? [])]) dropTeam(sub, row.teamId);
    }
    const toUser = row.userId ? byUser.get(row.userId) : undefined;
    const toTeam = row.teamId ? byTeam.get(row.teamId) : undefined;
    const audience = toUser && toTeam ? new Set([...toUser, ...toTeam]) : (toUser ?? toTeam ?? []);
    for (const sub of audience) sub.listener(row);
    for (const listener of listeners) listener(row);
  }
  let cursor = 0;
  let running = false;
  let again = false;
  let stopped = true;
  let timer: NodeJS.Timeout | undefined;
  let unsubscribeBus = () => {};
  let unsubscribeStatus = () => {};
  let current: Promise<void> = Promise.resolve();
  /** The highest id announced on the bus; above the cursor after a pump, it is held back by an older writer. */
  let announced = 0;
  let heldBackTimer: NodeJS.Timeout | undefined;

  async function pump(): Promise<void> {
    if (running) {
      again = true;
      return current;
    }
    running = true;
    current = (async () => {
      try {
        do {
          again = false;
          for (;;) {
            const rows = await readEvents(db, { after: cursor, limit: PAGE });
            for (const row of rows) {
              cursor = row.id;
              route(row);
            }
            if (rows.length < PAGE || stopped) break;
          }
        } while (again && !stopped);
      } catch (error) {
        log.warn({ err: error }, "reading the event log failed; retrying on the next poll");
      } finally {
        running = false;
      }
      // An announced event below the horizon's reach waits for an older writer, whose commit is
      // announced too; a rollback is not, so look again shortly instead of at the next idle poll.
      if (announced > cursor && !stopped && !heldBackTimer) {
        heldBackTimer = setTimeout(() => {
          heldBackTimer = undefined;
          void pump();
        }, HELD_BACK_RETRY_MS);
        heldBackTimer.unref();
      }
    })();
    return current;
  }

  function schedule() {
    clearTimeout(timer);
    if (stopped) return;
    const delay = bus.status() === "up" ? idlePollMs : fallbackPollMs;
    timer = setTimeout(() => {
      void pump().finally(schedule);
    }, delay);
    timer.unref();
  }

  return {
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    subscribe(userId, listener) {
      const sub: Sub = { userId, listener, teams: new Set() };
      index(byUser, userId, sub);
      return {
        addTeams(teamIds) {
          let added = 0;
          for (const teamId of teamIds) {
            if (sub.teams.has(teamId)) continue;
            addTeam(sub, teamId);
            added++;
          }
          return added;
        },
        close() {
          unindex(byUser, userId, sub);
          for (const teamId of [...sub.teams]) dropTeam(sub, teamId);
        },
      };
    },
    cursor: () => cursor,
    async start() {
      stopped = false;
      // The horizon, not the newest id: an event below the newest may still commit (see recordEvents).
      cursor = await eventHorizon(db);
      unsubscribeBus = bus.subscribe((note) => {
        announced = Math.max(announced, note.maxId);
        if (note.maxId > cursor) void pump();
      });
      unsubscribeStatus = bus.onStatus((status) => {
        // Notifications may have been lost while the bus was down: catch up at once, then
        // poll at the rate that suits the new status.
        void pump();
        schedule();
        log.info({ status }, status === "up" ? "bus back; live notifications resume" : "bus down; polling the event log");
      });
      schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(heldBackTimer);
      unsubscribeBus();
      unsubscribeStatus();
      listeners.clear();
      byUser.clear();
      byTeam.clear();
      await current;
    },
  };
}
