import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawCall, signUp } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

describe("smoke", () => {
  it("signs in and reads me", async () => {
    const session = await signUp(server);
    const me = await rawCall(server, "auth.me", {
      kind: "query",
      token: session.accessToken,
    });
    expect(me.status).toBe(200);
    expect(me.body.result.data.id).toBe(session.user.id);
  });
});
