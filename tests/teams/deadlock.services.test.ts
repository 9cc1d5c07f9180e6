import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startServer, type TestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";
import { call, expectError, ok, teamFixture } from "./helpers.js";

// A transaction the database aborts to break a deadlock (40P01) or a serialization conflict
// (40001) failed through no fault of the call: the client is told to retry, never a bare 500.
// A real deadlock: a connection of the test's own locks the target's membership row, the call
// (teams.members.setRole: team lock, then that row) waits for it while holding the team's lock,
// and the test's connection then asks for the team's lock.

let server: TestServer;
let other: postgres.Sql;

beforeAll(async () => {
  const databaseUrl = inject("databaseUrl");
  if (!databaseUrl) throw new Error("this file runs on test:services");
  server = await startServer();
  other = postgres(databaseUrl, { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  await server?.close();
  await other?.end({ timeout: 5 });
});

describe("a call that the database aborts to break a deadlock", () => {
  it("answers CONFLICT asking to retry, and the retry succeeds", async () => {
    const f = await teamFixture(server);
    const attempt = other.begin(async (sql) => {
      // The call's own check must be the one to find the cycle (the server's default 1 s), so
      // this side waits far longer before looking.
      await sql`set local deadlock_timeout = '30s'`;
      const [me] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
      const pid = me?.pid ?? 0;
      await sql`select 1 from team_members where team_id = ${f.teamId} and user_id = ${f.target.user.id} for update`;
      const answer = call(server, "teams.members.setRole", f.owner, { teamId: f.teamId, userId: f.target.user.id, role: "admin" });
      await waitFor(
        "the call to wait for the membership row",
        async () => {
          const [row] = await sql<{ n: number }[]>`
            select count(*)::int as n from pg_stat_activity where ${pid} = any(pg_blocking_pids(pid))`;
          return (row?.n ?? 0) > 0;
        },
        { timeoutMs: 20_000 },
      );
      const locking = sql`select 1 from teams where id = ${f.teamId} for update`.then(() => "locked");
      return { answer: await answer, locked: await locking };
    });
    const { answer, locked } = await attempt;
    expect(locked).toBe("locked");
    expectError(answer, "CONFLICT", /retry/i);
    const again = await ok(call(server, "teams.members.setRole", f.owner, { teamId: f.teamId, userId: f.target.user.id, role: "admin" }));
    expect(again).toMatchObject({ changed: true, previousRole: "member", role: "admin" });
  });
});
