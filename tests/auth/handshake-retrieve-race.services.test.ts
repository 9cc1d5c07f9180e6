import { completeHandshake, schema } from "@osmynt/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUp } from "../helpers/factories.js";
import { type FakeGitHub, startFakeGitHub } from "../helpers/fake-github.js";
import { retrieve, startHandshake } from "../helpers/github-flow.js";
import { startServer, type TestServer } from "../helpers/server.js";

/**
 * An editor polls `auth.handshake.retrieve` while the browser's callback completes the handshake.
 * Whatever the interleaving, a poll answers "pending" or the sealed session, never an error: the
 * session must not be lost to a poll that read the row just before the completion committed and
 * described it just after. PostgreSQL only (PGlite runs one statement at a time, so cannot race).
 */
let fake: FakeGitHub;
let server: TestServer;
/** The same database without GitHub configured, where dev sign-in makes the user. */
let plain: TestServer;

beforeAll(async () => {
  fake = await startFakeGitHub();
  server = await startServer({ env: fake.env() });
  plain = await startServer({ shareDepsWith: server });
});
afterAll(async () => {
  await plain?.close();
  await server?.close();
  await fake?.close();
});

describe("auth.handshake.retrieve racing the browser's completion", () => {
  it("answers pending or the session, never an error, across 60 races", async () => {
    const user = await signUp(plain);
    const failures: string[] = [];
    let taken = 0;
    for (let round = 0; round < 60; round++) {
      const { handshakeId } = await startHandshake(server);
      await server.deps.db.update(schema.handshakes).set({ status: "exchanging" }).where(eq(schema.handshakes.id, handshakeId));
      // A burst of polls around the completion, each its own transaction on its own connection.
      const polls = Array.from({ length: 6 }, (_, i) =>
        new Promise((resolve) => setTimeout(resolve, i % 3)).then(() => retrieve(server, handshakeId)),
      );
      const completing = new Promise((resolve) => setTimeout(resolve, round % 3)).then(() =>
        completeHandshake(server.deps.db, { id: handshakeId, userId: user.user.id }),
      );
      const [answers] = await Promise.all([Promise.all(polls), completing]);
      let sessions = 0;
      for (const { status, body } of answers) {
        const data = body.result?.data;
        if (status === 200 && data?.status === "complete") sessions++;
        else if (status === 200 && data?.status === "pending") continue;
        else if (status === 404 && /already retrieved/.test(body.error?.message ?? "")) continue;
        else failures.push(`round ${round}: ${status} ${JSON.stringify(body).slice(0, 200)}`);
      }
      // Whoever was first after the completion got it; if every poll came before, the next one does.
      if (sessions === 0) {
        const after = await retrieve(server, handshakeId);
        if (after.body.result?.data?.status === "complete") sessions++;
        else failures.push(`round ${round}: after the completion: ${after.status} ${JSON.stringify(after.body).slice(0, 200)}`);
      }
      expect(sessions, `round ${round}: one sealed session handed over`).toBe(1);
      taken += sessions;
    }
    expect(failures).toEqual([]);
    expect(taken).toBe(60);
  }, 120_000);
});
