import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUp } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { call, expectError, ok } from "./helpers.js";

// Review finding 10 of issue 9: a user belongs to a bounded number of teams.

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { MAX_TEAMS_PER_USER: "3" } });
});
afterAll(async () => {
  await server?.close();
});

describe("MAX_TEAMS_PER_USER", () => {
  it("counts the personal team and refuses one more with a message saying what to do", async () => {
    const me = await signUp(server);
    await ok(call(server, "teams.create", me, { name: "one" }));
    await ok(call(server, "teams.create", me, { name: "two" }));
    const refused = expectError(await call(server, "teams.create", me, { name: "three" }), "FORBIDDEN", /at most 3 teams/);
    expect(refused.data.details).toEqual({ limit: 3 });
    expect(await ok(call(server, "teams.mine", me))).toHaveLength(3);
  });

  it("holds against many creations in one batch request", async () => {
    const me = await signUp(server);
    const paths = Array.from({ length: 8 }, () => "teams.create").join(",");
    const input = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [String(i), { name: `batch ${i}` }]));
    const response = await fetch(`${server.trpcUrl}/${paths}?batch=1`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${me.accessToken}` },
      body: JSON.stringify(input),
    });
    const answers = (await response.json()) as { error?: { data: { code: string } } }[];
    expect(answers.filter((a) => !a.error)).toHaveLength(2);
    expect(answers.filter((a) => a.error?.data.code === "FORBIDDEN")).toHaveLength(6);
    expect(await ok(call(server, "teams.mine", me))).toHaveLength(3);
  });

  it("also bounds joining through an invite, and the invite is not spent", async () => {
    const host = await signUp(server);
    const team = await ok(call(server, "teams.create", host, { name: "host" }));
    const invite = await ok(call(server, "teams.invites.create", host, { teamId: team.id, maxUses: 2 }));
    const full = await signUp(server);
    await ok(call(server, "teams.create", full, { name: "a" }));
    await ok(call(server, "teams.create", full, { name: "b" }));
    expectError(await call(server, "teams.invites.accept", full, { token: invite.token }), "FORBIDDEN", /at most 3 teams/);
    const [listed] = (await ok(call(server, "teams.invites.list", host, { teamId: team.id }))).invites;
    expect(listed.uses).toBe(0);
  });
});
