import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../helpers/server.js";
import { matrix } from "./authz-table.js";
import { callProcedure, routerProcedures } from "./procedures.js";
import { type Actor, baseActors, buildWorld, tokenOf, type World } from "./world.js";

// Every procedure of the router × every actor → the outcome the table (authz-table.ts) expects,
// over real HTTP (subscriptions as SSE), on the backend of this run.

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

const procedures = routerProcedures();

describe("the authorization matrix covers the router", () => {
  it("has an entry for every procedure, and none for a procedure that is gone", () => {
    const paths = procedures.map((p) => p.path);
    expect(
      paths.filter((path) => !(path in matrix)),
      "procedures without a matrix entry (add them to tests/battery/authz-table.ts)",
    ).toEqual([]);
    expect(
      Object.keys(matrix).filter((path) => !paths.includes(path)),
      "matrix entries of no procedure",
    ).toEqual([]);
  });

  it("gives every entry an outcome for each of its actors", () => {
    for (const [path, entry] of Object.entries(matrix)) {
      const missing = (entry.actors ?? baseActors).filter((actor) => entry.expect[actor] === undefined);
      expect(missing, `${path}: actors without an expected outcome`).toEqual([]);
    }
  });
});

describe.each(procedures.filter((p) => p.path in matrix))("$path", ({ path, kind }) => {
  const entry = matrix[path];
  let shared: World | undefined;
  const worldFor = async (actor: Actor) => {
    if (entry?.fresh === true || (Array.isArray(entry?.fresh) && entry.fresh.includes(actor))) return buildWorld(server);
    shared ??= await buildWorld(server);
    return shared;
  };
  it.each([...(entry?.actors ?? baseActors)])("%s", async (actor) => {
    if (!entry) return;
    const world = await worldFor(actor);
    const answer = await callProcedure(server, path, kind, await entry.input(world, actor), tokenOf(world, actor));
    expect(answer.outcome, `${path} as ${actor}: ${answer.text.slice(0, 500)}`).toBe(entry.expect[actor]);
    expect(answer.text).not.toMatch(/"stack"|node_modules|\bat [\w.]+ \(/);
  });
});
