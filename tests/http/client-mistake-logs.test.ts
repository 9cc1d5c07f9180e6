import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { rawCall, signUp } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

// Review finding 9 of issue 9: a client's mistake is not the server's failure. It is logged at
// info or warn, in one line, without a stack; error level is for the server's own faults.

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

interface Line {
  level: number;
  msg: string;
  err?: { stack?: string };
}

function linesSince(mark: number): Line[] {
  return server.logs.slice(mark).map((l) => JSON.parse(l) as Line);
}

describe("client mistakes in the log", () => {
  it("an oversized WebSocket frame: one warn line, no error, no stack", async () => {
    const mark = server.logs.length;
    const user = await signUp(server);
    const ws = new WebSocket(`${server.wsUrl}?connectionParams=1`);
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    ws.send(JSON.stringify({ method: "connectionParams", data: { token: user.accessToken } }));
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    ws.send("x".repeat(1024 * 1024 + 1));
    expect(await closed).toBe(1009);
    await waitFor("a warn line about the frame", async () => linesSince(mark).some((l) => /WebSocket closed/.test(l.msg)));
    await new Promise((r) => setTimeout(r, 200));
    const lines = linesSince(mark);
    expect(lines.filter((l) => /WebSocket closed/.test(l.msg)).map((l) => l.level)).toEqual([40]);
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    expect(lines.filter((l) => l.err?.stack !== undefined)).toEqual([]);
  });

  it("validation errors and refusals are not logged as failures", async () => {
    const mark = server.logs.length;
    const user = await signUp(server);
    await rawCall(server, "teams.create", { input: { name: 42 }, token: user.accessToken });
    await rawCall(server, "teams.rename", { input: { teamId: "tm_nothere", name: "x" }, token: user.accessToken });
    await rawCall(server, "teams.create", { body: '{"name":', token: user.accessToken });
    await rawCall(server, "teams.create", { input: { name: "x" } });
    const lines = linesSince(mark);
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    expect(lines.filter((l) => l.err?.stack !== undefined)).toEqual([]);
  });
});
