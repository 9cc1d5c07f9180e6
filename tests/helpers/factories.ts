import { randomBytes } from "node:crypto";
import type { Session } from "@osmynt/sdk";
import type { TestServer } from "./server.js";

export function randomLogin(prefix = "u"): string {
  return `${prefix}-${randomBytes(5).toString("hex")}`;
}

/** A session as the API answers it: the SDK's type, generated from the router. */
export type TestSession = Session;

/** A raw tRPC call over HTTP, for tests about the wire itself (bad input, status codes). */
export async function rawCall(
  server: TestServer,
  path: string,
  options: {
    kind?: "query" | "mutation";
    input?: unknown;
    token?: string;
    body?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<{ status: number; body: any }> {
  const kind = options.kind ?? "mutation";
  const headers: Record<string, string> = {
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...options.headers,
  };
  let response: Response;
  if (kind === "query") {
    const qs = options.input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(options.input))}`;
    response = await fetch(`${server.trpcUrl}/${path}${qs}`, { headers });
  } else {
    response = await fetch(`${server.trpcUrl}/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: options.body ?? JSON.stringify(options.input ?? null),
    });
  }
  const text = await response.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, body };
}

/** A fresh user signed in through devLogin over real HTTP. */
export async function signUp(server: TestServer, login = randomLogin()): Promise<TestSession> {
  const { status, body } = await rawCall(server, "auth.devLogin", {
    input: { login },
  });
  if (status !== 200) throw new Error(`devLogin failed: ${status} ${JSON.stringify(body)}`);
  return body.result.data as TestSession;
}
