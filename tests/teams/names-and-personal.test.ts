import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUp } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { call, expectError, ok, scopedState, teamFixture } from "./helpers.js";

// Review finding 8 of issue 9: personal teams take no members, and team names cannot hide text.

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

describe("personal teams take no members", () => {
  it("refuses to create an invite to a personal team", async () => {
    const me = await signUp(server);
    const [personal] = await ok(call(server, "teams.mine", me));
    const before = await scopedState(server, { teamIds: [personal.id], userIds: [me.user.id] });
    expectError(
      await call(server, "teams.invites.create", me, { teamId: personal.id, role: "admin" }),
      "PRECONDITION_FAILED",
      /personal team takes no members/,
    );
    expect(await scopedState(server, { teamIds: [personal.id], userIds: [me.user.id] })).toEqual(before);
  });
});

describe("team names", () => {
  it("are stored NFC-normalized", async () => {
    const me = await signUp(server);
    const decomposed = "Cafe\u0301 team"; // e + combining acute accent
    const team = await ok(call(server, "teams.create", me, { name: decomposed }));
    expect(team.name).toBe("Caf\u00e9 team");
    const renamed = await ok(call(server, "teams.rename", me, { teamId: team.id, name: "A\u030Angstr\u00f6m" }));
    expect(renamed.name).toBe("\u00c5ngstr\u00f6m");
  });

  const hidden: [string, string][] = [
    ["right-to-left override", "evil\u202Etxt.exe"],
    ["left-to-right isolate", "a\u2066b"],
    ["zero-width space", "ad\u200Bmin"],
    ["zero-width joiner", "a\u200Db"],
    ["byte-order mark inside", "te\uFEFFam"],
    ["line separator", "a\u2028b"],
    ["tab", "a\tb"],
    ["NUL", "a\u0000b"],
  ];
  it.each(hidden)("refuses a %s, on create and on rename, and names the character", async (_label, name) => {
    const f = await teamFixture(server);
    const before = await scopedState(server, { teamIds: [f.teamId], userIds: [f.owner.user.id] });
    const created = expectError(await call(server, "teams.create", f.owner, { name }), "BAD_REQUEST", /name must not contain/);
    expect(created.message).toMatch(/U\+[0-9A-F]{4}/);
    expectError(await call(server, "teams.rename", f.owner, { teamId: f.teamId, name }), "BAD_REQUEST", /name must not contain/);
    expect(await scopedState(server, { teamIds: [f.teamId], userIds: [f.owner.user.id] })).toEqual(before);
  });

  it("still accepts names in any script, with emoji and ordinary punctuation", async () => {
    const me = await signUp(server);
    for (const name of ["Équipe Zürich", "開発チーム", "فريق", "Team 🚀 (core) — v2"]) {
      expect((await ok(call(server, "teams.create", me, { name }))).name).toBe(name);
    }
  });
});
