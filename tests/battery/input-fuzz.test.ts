import { randomInt } from "node:crypto";
import pMap from "p-map";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUp } from "../helpers/factories.js";
import { isolatedDatabase } from "../helpers/isolated-db.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { dumpDiff, dumpTables } from "./db-dump.js";
import { type FuzzCase, fuzzCases, inputSchemas, serialize, stringsOf } from "./fuzz-cases.js";
import { fuzzTable } from "./fuzz-table.js";
import { buildFuzzWorld, type FuzzWorld } from "./fuzz-world.js";
import { type Answer, callProcedure, routerProcedures } from "./procedures.js";

// Every procedure's input, corrupted in at least CASES ways by fast-check (fuzz-cases.ts), sent
// over real HTTP (subscriptions as SSE) by a signed-in team owner of a real world (fuzz-world.ts)
// to a server with a database of its own. For every answer: never a 5xx, never a stack trace, SQL
// or driver text; for every refused input: the database unchanged (every table dumped before and
// after each chunk of cases, db-dump.ts). Replay a failure with FUZZ_SEED=<seed in the message>.

const SEED = Number(process.env.FUZZ_SEED ?? randomInt(2 ** 31));
const CASES = Number(process.env.FUZZ_CASES ?? 200);
/** Calls in flight at once, and cases per database comparison. */
const CONCURRENCY = 6;
const CHUNK = 50;
/** How long an SSE stream that opened is listened to before it counts as accepted. */
const QUIET_MS = 1500;

let server: TestServer;
let world: FuzzWorld;
let database: Awaited<ReturnType<typeof isolatedDatabase>>;
beforeAll(async () => {
  // A database of its own on PostgreSQL: the dumps must see only this file's writes.
  database = await isolatedDatabase();
  server = await startServer({
    env: {
      ...database.env,
      // Accepted cases open pairings, teams and devices by the dozen: the budgets for them are
      // other tests' business, here they would only stop later batches from reaching their checks.
      PAIRING_ATTEMPTS_PER_HOUR: "10000",
      MAX_TEAMS_PER_USER: "100000",
      KEYS_MAX_DEVICES_PER_USER: "1000",
      SUBSCRIPTIONS_PER_USER: "10000",
      // A loaded machine may take longer than the default 15 minutes over the whole battery: the
      // owner's token must not expire in the middle (every call would then be a mere 401).
      ACCESS_TOKEN_TTL_SECONDS: "86400",
    },
  });
  world = await buildFuzzWorld(server);
});
afterAll(async () => {
  await server?.close();
  await database?.drop();
});

const procedures = routerProcedures();

describe("the fuzz table covers the router", () => {
  it("has an entry for every procedure, and none for a procedure that is gone", () => {
    const paths = procedures.map((p) => p.path);
    expect(
      paths.filter((path) => !(path in fuzzTable)),
      "procedures without a fuzz entry (add them to tests/battery/fuzz-table.ts)",
    ).toEqual([]);
    expect(
      Object.keys(fuzzTable).filter((path) => !paths.includes(path)),
      "fuzz entries of no procedure",
    ).toEqual([]);
  });
});

/** What an answer must never show, whatever the input: stacks, file paths, SQL, driver words. */
const leaks: [string, RegExp][] = [
  ["a stack trace", /\n\s+at |\bat [\w$.<>]+ \(|"stack"\s*:/],
  ["a source path", /node_modules|\/src\/[\w/-]+\.[jt]s|\.[jt]s:\d+:\d+/],
  ["SQL", /\bselect\b[\s\S]{0,300}\bfrom\b|\binsert\s+into\b|\bupdate\s+"?\w+"?\s+set\b|\bdelete\s+from\b|\breturning\b/i],
  [
    "database driver text",
    /Failed query|PostgresError|PGlite|SQLSTATE|violates (?:unique|foreign|check|not-null)|syntax error at|invalid input syntax|invalid byte sequence|relation "|column "|duplicate key|drizzle|ECONNREFUSED/i,
  ],
  ["an internal JavaScript error", /\b(?:TypeError|RangeError|ReferenceError|SyntaxError)\b|Maximum call stack|Cannot read propert/],
];

/** The answer's text without what the input itself said (an answer may quote a bad value back). */
function ownWords(answer: string, c: FuzzCase): string {
  const said = [...stringsOf(c.input), ...(c.rawText ? [c.rawText] : [])]
    .filter((s) => s.length >= 3)
    .map((s) => JSON.stringify(s).slice(1, -1))
    .sort((a, b) => b.length - a.length);
  let text = answer;
  for (const s of said) text = text.split(s).join("");
  return text;
}

function problemsOf(c: FuzzCase, answer: Answer): string[] {
  const problems: string[] = [];
  if (answer.status === 0) problems.push(`no answer (${answer.outcome})`);
  if (answer.status >= 500 || answer.outcome === "INTERNAL_SERVER_ERROR") problems.push(`answered ${answer.status} ${answer.outcome}`);
  const text = ownWords(answer.text, c);
  for (const [what, pattern] of leaks) if (pattern.test(text)) problems.push(`the answer shows ${what}`);
  return problems;
}

const preview = (c: FuzzCase) => {
  const text = c.rawText ?? (c.input === undefined ? "(no input)" : serialize(c.input));
  return text.length > 300 ? `${text.slice(0, 300)}… (${text.length} characters)` : text;
};

describe.each(procedures.filter((p) => p.path in fuzzTable))("$path", ({ path, kind, inputs }) => {
  const entry = fuzzTable[path];

  it(`survives ${CASES} generated inputs (seed ${SEED})`, async () => {
    if (!entry) return;
    const valid = await entry.valid(world);
    const cases = fuzzCases({ schemas: inputSchemas(inputs), valid, kind, count: CASES, seed: SEED });
    expect(cases.length).toBeGreaterThan(CASES);
    const problems: string[] = [];
    const report = (c: FuzzCase, what: string) => problems.push(`${c.label}: ${what}\n    input: ${preview(c)}`);

    const send = async (c: FuzzCase, token: string): Promise<Answer> => {
      const t = Date.now();
      const answer = await callProcedure(
        server,
        path,
        kind,
        undefined,
        token,
        c.rawText ?? (c.input === undefined ? undefined : serialize(c.input)),
        {
          quietMs: QUIET_MS,
        },
      );
      if (process.env.FUZZ_VERBOSE === "2") console.log(`${path} ${Date.now() - t} ms ${c.label} ${preview(c).slice(0, 100)}`);
      if (c === cases[0] && answer.outcome === "UNAUTHORIZED")
        problems.push(`the valid input was refused as UNAUTHORIZED: the battery's session is not working (${answer.text.slice(0, 200)})`);
      for (const p of problemsOf(c, answer)) report(c, `${p}\n    answer: ${answer.text.slice(0, 400)}`);
      return answer;
    };
    const tokensFor = async (n: number) =>
      entry.caller === "freshSession"
        ? Promise.all(Array.from({ length: n }, async () => (await signUp(server, world.owner.user.login)).accessToken))
        : Array.from({ length: n }, () => world.owner.accessToken);
    const writesByDesign = (answer: Answer) =>
      answer.outcome === "ok" || (entry.refusalsThatWrite?.outcomes.includes(answer.outcome) ?? false);

    /**
     * Runs `group` at once and compares the database before and after. Cases that were accepted
     * (or refused in a way that writes by design) may write; the others are run again on their own
     * as a group until a run holds only refusals, whose dumps must then be equal.
     */
    const runGroup = async (group: FuzzCase[], attempt = 0): Promise<void> => {
      if (group.length === 0) return;
      const tokens = await tokensFor(group.length);
      let t = Date.now();
      const before = await dumpTables(server);
      timing.dump += Date.now() - t;
      t = Date.now();
      const answers = await pMap(group, (c, i) => send(c, tokens[i] as string), { concurrency: CONCURRENCY });
      timing.send += Date.now() - t;
      t = Date.now();
      const after = await dumpTables(server);
      timing.dump += Date.now() - t;
      timing.groups++;
      const refused = group.filter((_, i) => !writesByDesign(answers[i] as Answer));
      if (refused.length === group.length) {
        const diff = dumpDiff(before, after);
        if (Object.keys(diff).length > 0) {
          if (group.length === 1)
            report(
              group[0] as FuzzCase,
              `refused (${answers[0]?.outcome}) but the database changed: ${JSON.stringify(diff).slice(0, 800)}`,
            );
          else {
            // find which one wrote: each on its own
            for (const c of group) await runGroup([c], attempt + 1);
          }
        }
        return;
      }
      await runGroup(refused, attempt + 1);
    };

    const started = Date.now();
    const loggedBefore = server.logs.length;
    const cpu = process.cpuUsage();
    const timing = { dump: 0, send: 0, groups: 0 };
    // The valid input goes first and alone: a generated case can equal it (a refresh token sent
    // again), and whichever of the two reaches the server second is refused by design.
    await runGroup(cases.slice(0, 1));
    for (let i = 1; i < cases.length; i += CHUNK) await runGroup(cases.slice(i, i + CHUNK));
    if (process.env.FUZZ_VERBOSE)
      console.log(
        `${path}: ${cases.length} cases in ${Date.now() - started} ms, cpu ${Math.round((process.cpuUsage(cpu).user + process.cpuUsage(cpu).system) / 1000)} ms ${JSON.stringify(timing)}`,
      );
    // A failure after a stream went quiet never reaches the client: the server's own error log does.
    for (const line of server.logs.slice(loggedBefore)) {
      const logged = JSON.parse(line) as { level: number; msg: string; err?: { message?: string } };
      if (logged.level >= 50) problems.push(`the server logged an error: ${logged.msg} ${logged.err?.message ?? ""}`.trim());
    }
    const unique = [...new Set(problems)];
    expect(
      unique,
      `${path}: ${unique.length} problem(s) with seed ${SEED} (replay: FUZZ_SEED=${SEED})\n${unique.slice(0, 12).join("\n")}`,
    ).toEqual([]);
    // a loaded machine makes 200 real calls slow; nothing here waits on time, so no tight limit
  }, 600_000);
});
