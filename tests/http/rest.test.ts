import { randomBytes } from "node:crypto";
import { createDevices, createOsmyntClient, createShares, memorySessionStore, type OsmyntClient } from "@osmynt/sdk";
import { memoryKeyStore } from "@osmynt/sdk/crypto";
import { appRouter, REST_PREFIX, restOperations } from "@osmynt/server";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomLogin, rawCall, signUp, type TestSession } from "../helpers/factories.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { expectTrpcError } from "../helpers/trpc-errors.js";

let server: TestServer;
let doc: any;
beforeAll(async () => {
  server = await startServer();
  doc = await (await fetch(`${server.url}/doc`)).json();
});
afterAll(async () => {
  await server?.close();
});

interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

async function rest(
  base: string,
  method: "GET" | "POST",
  path: string,
  options: { input?: unknown; token?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers };
  let url = `${base}${path}`;
  let body: string | undefined;
  if (method === "GET") {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries((options.input ?? {}) as Record<string, unknown>)) {
      params.set(key, typeof value === "object" ? JSON.stringify(value) : String(value));
    }
    if ([...params].length > 0) url += `?${params}`;
  } else {
    headers["content-type"] ??= "application/json";
    body = options.body ?? (options.input === undefined ? "" : JSON.stringify(options.input));
  }
  const response = await fetch(url, { method, headers, body });
  const text = await response.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: response.status, body: parsed, headers: response.headers };
}

interface DocOperation {
  path: string;
  method: "GET" | "POST";
  operationId: string;
  secured: boolean;
  operation: any;
}

function operationsOf(document: any): DocOperation[] {
  const ops: DocOperation[] = [];
  for (const [path, item] of Object.entries<any>(document.paths)) {
    for (const [method, operation] of Object.entries<any>(item)) {
      ops.push({
        path,
        method: method.toUpperCase() as "GET" | "POST",
        operationId: operation.operationId,
        secured: (operation.security ?? document.security ?? []).length > 0,
        operation,
      });
    }
  }
  return ops;
}

/** A value for a documented field: real ids of the caller where the name says so, else the smallest valid-looking value. */
function sampleFor(name: string, schema: any, ids: Record<string, unknown>): unknown {
  if (name in ids) return ids[name];
  if (schema?.enum) return schema.enum[0];
  const types = [schema?.type ?? []].flat();
  const alt = schema?.anyOf?.find((s: any) => s.type !== "null");
  if (types.length === 0 && alt) return sampleFor(name, alt, ids);
  if (types.includes("string")) return "x".repeat(Math.max(1, schema.minLength ?? 1));
  if (types.includes("integer") || types.includes("number")) return schema.minimum ?? 1;
  if (types.includes("boolean")) return false;
  if (types.includes("array")) return [];
  if (types.includes("object")) return sampleObject(schema, ids);
  return null;
}

function sampleObject(schema: any, ids: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const key of schema?.required ?? []) result[key] = sampleFor(key, schema.properties?.[key], ids);
  return result;
}

/** The input an operation documents, filled with samples for its required fields. */
function sampleInput(op: DocOperation, ids: Record<string, unknown>): unknown {
  if (op.method === "GET") {
    const input: Record<string, unknown> = {};
    for (const p of op.operation.parameters ?? []) if (p.in === "query" && p.required) input[p.name] = sampleFor(p.name, p.schema, ids);
    return input;
  }
  const schema = op.operation.requestBody?.content?.["application/json"]?.schema;
  return schema ? sampleObject(schema, ids) : undefined;
}

function pointer(...segments: string[]): string {
  return `#/${segments.map((s) => s.replaceAll("~", "~0").replaceAll("/", "~1")).join("/")}`;
}

/** Checks an answer against the document: a listed status (or `default`), JSON, and the body valid for that response's schema. */
function expectAsDocumented(ajv: Ajv2020, op: DocOperation, answer: Answer) {
  const shown = `${op.method} ${op.path} → ${answer.status} ${JSON.stringify(answer.body).slice(0, 400)}`;
  const responses = op.operation.responses;
  const key = String(answer.status) in responses ? String(answer.status) : "default";
  expect(responses[key], shown).toBeDefined();
  if (answer.status !== 200) expect(key === "default" ? answer.status : 0, shown).not.toBe(200);
  expect(answer.headers.get("content-type"), shown).toMatch(/^application\/json/);
  const validate = ajv.getSchema(
    `doc${pointer("paths", op.path, op.method.toLowerCase(), "responses", key, "content", "application/json", "schema")}`,
  );
  expect(validate, shown).toBeTypeOf("function");
  const valid = validate?.(answer.body);
  expect(valid, `${shown}\n${JSON.stringify(validate?.errors)}`).toBe(true);
  if (answer.status >= 400) expect(answer.body.error.data.httpStatus, shown).toBe(answer.status);
}

// ajv-formats is CommonJS: its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

function documentValidator(document: any): Ajv2020 {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(document, "doc");
  return ajv;
}

/** Ids the caller may act on: a team of their own (not the personal one, which takes no invites). */
async function idsFor(session: TestSession): Promise<Record<string, string>> {
  const team = await rest(server.url, "POST", `${REST_PREFIX}/teams/create`, { input: { name: "Walk team" }, token: session.accessToken });
  expect(team.status).toBe(200);
  return {
    teamId: team.body.id,
    userId: session.user.id,
    login: randomLogin("rest"),
    name: "REST team",
    refreshToken: session.refreshToken,
  };
}

describe("the REST view covers every query and mutation", () => {
  it("maps each one, with an output schema, and nothing stands in the way of documenting it", () => {
    const { operations, problems } = restOperations(appRouter);
    // A new procedure that cannot be documented fails here, with what to change.
    expect(problems, problems.join("\n")).toEqual([]);
    const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>)
      .filter(([, p]) => p._def.type !== "subscription")
      .map(([path]) => path)
      .sort();
    expect(operations.map((op) => op.procedurePath).sort()).toEqual(procedures);
    expect(procedures.length).toBeGreaterThan(15);
  });

  it("documents each of them at /doc (OpenAPI 3.1), and no subscription", () => {
    expect(doc.openapi).toBe("3.1.0");
    const documented = operationsOf(doc);
    const { operations } = restOperations(appRouter);
    expect(documented.map((op) => `${op.method} ${op.path}`).sort()).toEqual(operations.map((op) => `${op.method} ${op.url}`).sort());
    for (const op of documented) {
      expect(op.path.startsWith(`${REST_PREFIX}/`)).toBe(true);
      expect(op.operation.responses["200"]).toBeDefined();
      expect(op.operation.responses.default.content["application/json"].schema.$ref).toBe("#/components/schemas/Error");
    }
    expect(documented.find((op) => op.operationId === "events.subscribe")).toBeUndefined();
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
  });
});

describe("walking /doc: every REST path answers as documented", () => {
  it("without a session: the secured ones answer UNAUTHORIZED, the public ones as documented", async () => {
    const ajv = documentValidator(doc);
    const owner = await signUp(server);
    const ids = await idsFor(owner);
    const ops = operationsOf(doc);
    let secured = 0;
    for (const op of ops) {
      const answer = await rest(server.url, op.method, op.path, { input: sampleInput(op, ids) });
      expectAsDocumented(ajv, op, answer);
      if (op.secured) {
        secured++;
        expectTrpcError(answer, "UNAUTHORIZED", /access token/);
      } else {
        expect(answer.status, `${op.path} is public`).not.toBe(401);
      }
    }
    expect(secured).toBeGreaterThan(10);
  });

  it("signed in (a fresh user for each): every answer is documented, and the plain reads succeed", async () => {
    const ajv = documentValidator(doc);
    const statuses: Record<string, number> = {};
    for (const op of operationsOf(doc)) {
      const session = await signUp(server);
      const ids = await idsFor(session);
      const answer = await rest(server.url, op.method, op.path, { input: sampleInput(op, ids), token: session.accessToken });
      expectAsDocumented(ajv, op, answer);
      statuses[op.operationId] = answer.status;
    }
    for (const id of [
      "auth.me",
      "auth.sessions.list",
      "auth.logout",
      "teams.mine",
      "teams.create",
      "teams.rename",
      "teams.invites.list",
      "teams.invites.create",
      "teams.audit",
    ]) {
      expect(statuses[id], `${id}: ${JSON.stringify(statuses)}`).toBe(200);
    }
  });
});

describe("walking /doc in a world with devices, a team and a share", () => {
  const clients: OsmyntClient[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
  });

  /** A user on a device of their own, through the SDK (the device log and the share need real crypto). */
  async function person() {
    const session = await signUp(server);
    const client = createOsmyntClient({ url: server.url, session: memorySessionStore(session) });
    clients.push(client);
    const devices = createDevices(client, { keyStore: memoryKeyStore() });
    const { deviceId } = await devices.register({ name: "walk device" });
    return { session, token: session.accessToken, userId: session.user.id, deviceId, shares: createShares(client, devices) };
  }

  it("every query answers 200 with a body valid against its documented schema; mutations on real objects too", async () => {
    const ajv = documentValidator(doc);
    const alice = await person();
    const bob = await person();
    const post = (path: string, input: unknown, token = alice.token) =>
      rest(server.url, "POST", `${REST_PREFIX}/${path}`, { input, token });
    const team = await post("teams/create", { name: "Walk world" });
    const invite = await post("teams/invites/create", { teamId: team.body.id, maxUses: 2 });
    expect((await post("teams/invites/accept", { token: invite.body.token }, bob.token)).status).toBe(200);
    const share = await alice.shares.shareCode({ teamId: team.body.id, code: "walk()", title: "walk" });
    // Names of documented fields → values on which the caller may act (alice: owner; bob: member, the other user).
    const ids: Record<string, unknown> = {
      teamId: team.body.id,
      userId: bob.userId,
      deviceId: alice.deviceId,
      id: share.id,
      inviteId: invite.body.inviteId,
      role: "admin",
      pairingId: `pair_${randomBytes(12).toString("base64url")}`,
    };
    const answers = new Map<string, Answer>();
    const ops = operationsOf(doc);
    // An input that is a union documents no required field to fill: given here.
    const unions: Record<string, unknown> = { "shares.markRead": { shareIds: [share.id] } };
    const call = async (op: DocOperation) => {
      const input = unions[op.operationId] ?? sampleInput(op, ids);
      const answer = await rest(server.url, op.method, op.path, { input, token: alice.token });
      expectAsDocumented(ajv, op, answer);
      answers.set(op.operationId, answer);
      return answer;
    };

    // Every query. keys.pairing.get needs a pairing in flight: for a well-formed unknown id it answers the documented NOT_FOUND.
    for (const op of ops.filter((o) => o.method === "GET")) {
      const answer = await call(op);
      if (op.operationId === "keys.pairing.get") expectTrpcError(answer, "NOT_FOUND");
      else expect(answer.status, `${op.operationId}: ${JSON.stringify(answer.body).slice(0, 300)}`).toBe(200);
    }
    // The reads saw the world: alice's device, bob's log, the share and its envelope for alice's device.
    expect(answers.get("keys.mine")?.body.devices.map((d: { deviceId: string }) => d.deviceId)).toEqual([alice.deviceId]);
    expect(answers.get("keys.forTeam")?.body.members).toHaveLength(2);
    expect(answers.get("shares.listTeam")?.body.items.map((h: { id: string }) => h.id)).toEqual([share.id]);
    expect(answers.get("shares.get")?.body).toMatchObject({ id: share.id, wrap: { deviceId: alice.deviceId } });
    expect(answers.get("teams.audit")?.body.entries.length).toBeGreaterThan(0);

    // Mutations on those objects, in an order where each still has its object: all documented, all 200.
    const byId = new Map(ops.map((op) => [op.operationId, op]));
    for (const id of [
      "shares.markRead",
      "teams.members.setRole",
      "teams.invites.revoke",
      "teams.rename",
      "shares.delete",
      "teams.members.remove",
      "teams.delete",
    ]) {
      ids.name = `Walk ${id}`;
      const answer = await call(byId.get(id) as DocOperation);
      expect(answer.status, `${id}: ${JSON.stringify(answer.body).slice(0, 300)}`).toBe(200);
    }
  });
});

describe("REST answers like /trpc", () => {
  it("the same procedure, the same data, the same error message and code", async () => {
    const alice = await signUp(server);
    const bob = await signUp(server);
    const created = await rest(server.url, "POST", `${REST_PREFIX}/teams/create`, {
      input: { name: "  Rest Team  " },
      token: alice.accessToken,
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ name: "Rest Team", myRole: "owner" });
    const viaTrpc = await rawCall(server, "teams.mine", { kind: "query", token: alice.accessToken });
    expect(viaTrpc.body.result.data.map((t: { id: string }) => t.id)).toContain(created.body.id);

    // Bob is not in the team: both transports answer NOT_FOUND with the same message.
    const renameInput = { teamId: created.body.id, name: "Taken" };
    const restAnswer = await rest(server.url, "POST", `${REST_PREFIX}/teams/rename`, { input: renameInput, token: bob.accessToken });
    const trpcAnswer = await rawCall(server, "teams.rename", { input: renameInput, token: bob.accessToken });
    const restError = expectTrpcError(restAnswer, "NOT_FOUND");
    const trpcError = expectTrpcError(trpcAnswer, "NOT_FOUND");
    expect(restError).toEqual({ ...trpcError, data: { ...trpcError.data } });

    // Bad input: BAD_REQUEST naming the field, with the zod issues, on both.
    const badRest = expectTrpcError(
      await rest(server.url, "POST", `${REST_PREFIX}/teams/create`, { input: { name: "" }, token: alice.accessToken }),
      "BAD_REQUEST",
      /name/,
    );
    const badTrpc = expectTrpcError(
      await rawCall(server, "teams.create", { input: { name: "" }, token: alice.accessToken }),
      "BAD_REQUEST",
    );
    expect(badRest.message).toBe(badTrpc.message);
    expect(badRest.data.zodError).toEqual(badTrpc.data.zodError);
  });

  it("decodes query parameters without loosening the procedures' own validation", async () => {
    const alice = await signUp(server);
    const { teamId } = await idsFor(alice);
    const page = await rest(server.url, "GET", `${REST_PREFIX}/teams/invites/list`, {
      input: { teamId, limit: 5 },
      token: alice.accessToken,
    });
    expect(page.status).toBe(200);
    expect(page.body).toEqual({ invites: [], nextCursor: null });
    expectTrpcError(
      await rest(server.url, "GET", `${REST_PREFIX}/teams/invites/list`, { input: { teamId, limit: "five" }, token: alice.accessToken }),
      "BAD_REQUEST",
      /limit/,
    );
    // /trpc still wants a number: decoding query text for REST changed no schema.
    expectTrpcError(
      await rawCall(server, "teams.invites.list", { kind: "query", input: { teamId, limit: "5" }, token: alice.accessToken }),
      "BAD_REQUEST",
      /limit/,
    );
  });

  it("accepts a mutation without input with or without a JSON content type", async () => {
    const alice = await signUp(server);
    const bob = await signUp(server);
    const withType = await rest(server.url, "POST", `${REST_PREFIX}/auth/logout`, { token: alice.accessToken });
    expect(withType).toMatchObject({ status: 200, body: { ok: true } });
    const bare = await fetch(`${server.url}${REST_PREFIX}/auth/logout`, {
      method: "POST",
      headers: { authorization: `Bearer ${bob.accessToken}` },
    });
    expect(bare.status).toBe(200);
    // The session has ended: the token no longer works on REST either.
    expectTrpcError(
      await rest(server.url, "GET", `${REST_PREFIX}/auth/me`, { token: alice.accessToken }),
      "UNAUTHORIZED",
      /session has ended/,
    );
  });

  it("answers unknown paths, wrong methods, bad JSON, other content types and oversized bodies in the error shape", async () => {
    const alice = await signUp(server);
    expectTrpcError(
      await rest(server.url, "GET", `${REST_PREFIX}/teams/nothing`),
      "NOT_FOUND",
      /No REST operation GET \/api\/v1\/teams\/nothing/,
    );
    expectTrpcError(await rest(server.url, "GET", `${REST_PREFIX}/teams/create`), "NOT_FOUND", /\/doc/);
    expectTrpcError(
      await rest(server.url, "POST", `${REST_PREFIX}/teams/create`, { body: "{not json", token: alice.accessToken }),
      "BAD_REQUEST",
      /JSON/,
    );
    expectTrpcError(
      await rest(server.url, "POST", `${REST_PREFIX}/teams/create`, {
        body: "name=x",
        headers: { "content-type": "text/plain" },
        token: alice.accessToken,
      }),
      "UNSUPPORTED_MEDIA_TYPE",
    );
    expectTrpcError(
      await rest(server.url, "POST", `${REST_PREFIX}/teams/create`, {
        input: { name: "x".repeat(1_100_000) },
        token: alice.accessToken,
      }),
      "PAYLOAD_TOO_LARGE",
      /larger than the limit/,
    );
  });
});

describe("REST shares the app's limits and CORS", () => {
  let limited: TestServer;
  beforeAll(async () => {
    // A Redis prefix of its own (services backend): other files' servers share the address 127.0.0.1.
    limited = await startServer({
      env: {
        RATE_LIMIT_PER_MINUTE: "3",
        CORS_ORIGINS: "https://editor.example",
        REDIS_CHANNEL_PREFIX: `rl-${randomBytes(4).toString("hex")}`,
      },
    });
  });
  afterAll(async () => {
    await limited?.close();
  });

  it("rate limits REST calls like /trpc calls", async () => {
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await rest(limited.url, "GET", `${REST_PREFIX}/auth/me`));
    expect(answers.slice(0, 3).map((a) => a.status)).toEqual([401, 401, 401]);
    expectTrpcError(answers[3] as Answer, "TOO_MANY_REQUESTS", /at most 3 a minute/);
  });

  it("answers CORS preflights for allowed origins only", async () => {
    const preflight = (origin: string) =>
      fetch(`${limited.url}${REST_PREFIX}/teams/create`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
      });
    const allowed = await preflight("https://editor.example");
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://editor.example");
    expect(allowed.headers.get("access-control-allow-headers")).toMatch(/authorization/);
    const foreign = await preflight("https://evil.example");
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
  });
});
