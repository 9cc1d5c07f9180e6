import { schema } from "@osmynt/db";
import { catalogue, withEvents } from "@osmynt/server";
import { gt } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomLogin, signUp } from "../helpers/factories.js";
import { startFakeGitHub } from "../helpers/fake-github.js";
import { followBrowser, startHandshake } from "../helpers/github-flow.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { addDevice, call, firstDevice, forward, join, ok, share } from "../shares/helpers.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

/** The newest event id now, so the scenario reads only what it produced (other files share the database). */
async function head(): Promise<number> {
  const rows = await server.deps.db.select({ id: schema.events.id }).from(schema.events);
  return rows.reduce((max, r) => Math.max(max, r.id), 0);
}

describe("the event catalogue", () => {
  it("every event the server records in a scenario touching every type parses against it, and every type occurs", async () => {
    const start = await head();
    const [a, b, c] = await Promise.all([
      signUp(server, randomLogin("alice")),
      signUp(server, randomLogin("bob")),
      signUp(server, randomLogin("carol")),
    ]);
    const team = await ok(call(server, "teams.create", a, { name: "catalogue" }));
    await join(server, team.id, a, b); // team.memberJoined, invite.accepted
    await join(server, team.id, a, c);
    await ok(call(server, "teams.rename", a, { teamId: team.id, name: "catalogue 2" })); // team.renamed
    await ok(call(server, "teams.members.setRole", a, { teamId: team.id, userId: b.user.id, role: "admin" })); // team.roleChanged
    const alice = await firstDevice(server, a); // keys.changed
    const bob = await firstDevice(server, b);
    const shareId = await share(server, alice, { teamId: team.id }, { code: "x", title: "y" }); // share.created
    await share(server, alice, { userId: b.user.id }, { code: "direct", title: "to bob" });
    await addDevice(server, bob);
    await ok((await forward(server, bob, shareId, [b.user.id])).send()); // share.recipientsAdded
    await ok(call(server, "shares.delete", a, { id: shareId })); // share.deleted
    await ok(call(server, "teams.members.remove", a, { teamId: team.id, userId: c.user.id })); // team.memberLeft
    await ok(call(server, "teams.delete", a, { teamId: team.id })); // team.deleted
    await ok(call(server, "auth.logout", c)); // session.revoked

    // handshake.settled: a browser sign-in the person declines, on an instance with GitHub configured.
    const fake = await startFakeGitHub();
    const github = await startServer({ env: fake.env(), shareDepsWith: server });
    let handshakeId: string;
    try {
      const handshake = await startHandshake(github);
      handshakeId = handshake.handshakeId;
      await followBrowser(handshake.authorizeUrl, "deny");
    } finally {
      await github.close();
      await fake.close();
    }

    const users = new Set([a.user.id, b.user.id, c.user.id]);
    const rows = (await server.deps.db.select().from(schema.events).where(gt(schema.events.id, start))).filter(
      (r) =>
        (r.userId !== null && users.has(r.userId)) ||
        r.teamId === team.id ||
        (r.type === "handshake.settled" && r.payload.handshakeId === handshakeId),
    );
    const failures = rows
      .map((r) => ({ row: r, parsed: catalogue.safeParse({ type: r.type, payload: r.payload }) }))
      .filter((p) => !p.parsed.success)
      .map((p) => `${p.row.id} ${p.row.type} ${JSON.stringify(p.row.payload)}`);
    expect(failures, "events that do not parse against the catalogue").toEqual([]);
    const types = catalogue.options.map((o) => o.shape.type.value);
    expect([...new Set(rows.map((r) => r.type))].sort(), "the scenario produced every type of the catalogue").toEqual([...types].sort());
  });

  it("a payload outside the catalogue is refused at the write and nothing is recorded", async () => {
    const user = await signUp(server);
    const before = await head();
    const bad = withEvents(server.deps, (_tx, emit) =>
      // @ts-expect-error a payload the catalogue does not describe does not type-check either
      emit([{ type: "team.renamed", teamId: null, userId: user.user.id, payload: { teamId: "tm_x", title: "plaintext" } }]),
    );
    await expect(bad).rejects.toThrow(/team\.renamed does not match the event catalogue/);
    const after = await server.deps.db.select().from(schema.events).where(gt(schema.events.id, before));
    expect(after.filter((r) => r.userId === user.user.id)).toEqual([]);
  });
});
