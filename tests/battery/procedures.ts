import { appRouter } from "@osmynt/server";
import type { TestServer } from "../helpers/server.js";

export type ProcedureKind = "query" | "mutation" | "subscription";

/**
 * Every procedure of the running router, by path, with its input parsers (several when tRPC merges
 * inputs, as team procedures do): the batteries walk this, never a hand list.
 */
export function routerProcedures(): { path: string; kind: ProcedureKind; inputs: unknown[] }[] {
  const records = appRouter._def.procedures as unknown as Record<string, { _def: { type: ProcedureKind; inputs: unknown[] } }>;
  return Object.entries(records)
    .map(([path, procedure]) => ({ path, kind: procedure._def.type, inputs: procedure._def.inputs }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

export interface Answer {
  status: number;
  /** The tRPC error code, or "ok". */
  outcome: string;
  text: string;
}

/**
 * One call over real HTTP, whatever the kind: queries by GET, mutations by POST, subscriptions as
 * SSE (read until the first event or error, or `quietMs` of quiet, then dropped). `rawText`, when
 * given, is sent as the input's text instead of `input` as JSON (the body, or the `input` parameter).
 */
export async function callProcedure(
  server: TestServer,
  path: string,
  kind: ProcedureKind,
  input: unknown,
  token: string | undefined,
  rawText?: string,
  options: { quietMs?: number } = {},
): Promise<Answer> {
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const text = rawText ?? (input === undefined ? undefined : JSON.stringify(input));
  const qs = text === undefined ? "" : `?input=${encodeURIComponent(text)}`;
  if (kind === "subscription") return subscribeOnce(`${server.trpcUrl}/${path}${qs}`, auth, options.quietMs ?? 3000);
  const response =
    kind === "query"
      ? await fetch(`${server.trpcUrl}/${path}${qs}`, { headers: auth })
      : await fetch(`${server.trpcUrl}/${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...auth },
          body: text,
        });
  const answer = await response.text();
  return { status: response.status, outcome: outcomeOf(response.status, answer), text: answer };
}

function outcomeOf(status: number, text: string): string {
  if (status === 200) return "ok";
  try {
    return (JSON.parse(text) as { error?: { data?: { code?: string } } }).error?.data?.code ?? `HTTP ${status}`;
  } catch {
    return `HTTP ${status}`;
  }
}

async function subscribeOnce(url: string, headers: Record<string, string>, quietMs: number, retry = true): Promise<Answer> {
  const controller = new AbortController();
  // A loaded machine may take a while to answer at all: the quiet window starts once it has.
  let timer = setTimeout(() => controller.abort(), 30_000);
  try {
    const response = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: controller.signal });
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), quietMs);
    if (response.status !== 200 || !response.body) {
      const text = await response.text();
      return { status: response.status, outcome: outcomeOf(response.status, text), text };
    }
    let text = "";
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        // the stream's first message: a connection event, data, or a serialized error
        if (/event: serialized-error/.test(text) && /\n\n/.test(text.slice(text.indexOf("event: serialized-error")))) break;
        // "connected" comes first and says nothing of the outcome (a refusal may follow once the
        // server has looked the input up): wait for tracked data or the quiet timeout instead.
        if (/^id:/m.test(text) && !/serialized-error/.test(text)) break;
      }
    } catch {
      // aborted after the timeout: the stream was open and quiet, which is an accepted subscription
    }
    controller.abort();
    const error = text.match(/event: serialized-error\ndata: (.*)\n/);
    if (error?.[1]) {
      const parsed = JSON.parse(error[1]) as { data?: { code?: string; httpStatus?: number } };
      return { status: parsed.data?.httpStatus ?? 500, outcome: parsed.data?.code ?? "INTERNAL_SERVER_ERROR", text };
    }
    return { status: 200, outcome: "ok", text };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    // A kept-alive socket the server closed as the request went out (undici "other side closed",
    // ECONNRESET) fails before any byte of an answer: the transport's, not the procedure's, so once
    // more on a fresh connection. The same failure twice is reported, with its cause.
    if (retry && cause?.code && SOCKET_RESET.has(cause.code)) return subscribeOnce(url, headers, quietMs, false);
    return { status: 0, outcome: `fetch failed: ${String(error)} (${cause?.code ?? "no code"}: ${cause?.message ?? ""})`, text: "" };
  } finally {
    clearTimeout(timer);
  }
}

const SOCKET_RESET = new Set(["UND_ERR_SOCKET", "ECONNRESET", "EPIPE", "UND_ERR_CLOSED"]);
