import type { Sql } from "postgres";
import type { collect } from "./trpc.js";

/** One call of a steady load, as the client saw it. */
export interface CallRecord {
  startedAt: number;
  ms: number;
  /** ok: answered 200; unavailable: 503 SERVICE_UNAVAILABLE (failed fast, retryable); other: anything else. */
  outcome: "ok" | "unavailable" | "other";
  status: number;
  code?: string;
  message?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `workers` clients calling one after another (a short pause between calls) until stopped: the
 * steady load an outage test runs through. Every answer is recorded, with how long it took.
 */
export function steadyLoad(call: (n: number) => Promise<{ status: number; body: any }>, workers = 4, pauseMs = 50) {
  const records: CallRecord[] = [];
  let stopped = false;
  let n = 0;
  const loops = Array.from({ length: workers }, async () => {
    while (!stopped) {
      const startedAt = Date.now();
      try {
        const { status, body } = await call(n++);
        const code: string | undefined = body?.error?.data?.code;
        const outcome = status === 200 ? "ok" : status === 503 && code === "SERVICE_UNAVAILABLE" ? "unavailable" : "other";
        records.push({ startedAt, ms: Date.now() - startedAt, outcome, status, code, message: body?.error?.message });
      } catch (error) {
        records.push({ startedAt, ms: Date.now() - startedAt, outcome: "other", status: 0, message: String(error) });
      }
      await sleep(pauseMs);
    }
  });
  return {
    records,
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/** Counts of the calls started within [from, to) (the outage) and of all of them. */
export function summarize(records: CallRecord[], outage: { from: number; to: number }) {
  const during = records.filter((r) => r.startedAt >= outage.from && r.startedAt < outage.to);
  const count = (rs: CallRecord[], outcome: CallRecord["outcome"]) => rs.filter((r) => r.outcome === outcome).length;
  return {
    calls: records.length,
    answered: count(records, "ok"),
    failedFast: count(records, "unavailable"),
    other: count(records, "other"),
    duringOutage: during.length,
    answeredDuringOutage: count(during, "ok"),
    failedFastDuringOutage: count(during, "unavailable"),
    maxAnswerMsDuringOutage: Math.max(0, ...during.map((r) => r.ms)),
    otherSamples: records.filter((r) => r.outcome === "other").slice(0, 5),
  };
}

/** `rawCall`-style POST of a tRPC mutation with a bearer token, bounded by a generous abort. */
export async function mutate(trpcUrl: string, path: string, input: unknown, token: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${trpcUrl}/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(input),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, body };
}

type Subscription = Pick<ReturnType<typeof collect>, "events" | "until">;

/**
 * What live subscribers got of the events of `type` the log committed (`committed`, ids in order),
 * after waiting up to 30 s for them all: events lost, delivered twice, and streams out of order.
 */
export async function deliveryOf(subs: Subscription[], type: string, committed: number[]) {
  for (const s of subs) await s.until(() => s.events.filter((e) => e.type === type).length >= committed.length, 30_000).catch(() => {});
  let lost = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  for (const s of subs) {
    const ids = s.events.filter((e) => e.type === type).map((e) => Number(e.id));
    const seen = new Set(ids);
    lost += committed.filter((id) => !seen.has(id)).length;
    duplicates += ids.length - seen.size;
    outOfOrder += ids.some((id, i) => i > 0 && id <= (ids[i - 1] ?? 0)) ? 1 : 0;
  }
  return { lost, duplicates, outOfOrder };
}

/**
 * The truth is the log itself: every `team.renamed` of `teamId` that committed, whatever its caller
 * heard, and what the subscribers got of them (see `deliveryOf`).
 */
export async function renamesDelivered(admin: Sql, teamId: string, subs: Subscription[]) {
  const committed = (await admin`select id from events where team_id = ${teamId} and type = 'team.renamed' order by id`).map((r) =>
    Number(r.id),
  );
  return { committed, ...(await deliveryOf(subs, "team.renamed", committed)) };
}
