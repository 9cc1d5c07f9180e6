import WebSocket from "ws";
import type { TestServer } from "./server.js";

/**
 * tRPC's WebSocket protocol spoken by hand: one call per message (or an array in one message),
 * answers matched by id. For tests about what the server does per message, with no client library
 * retrying or reconnecting in between.
 */
export async function rawWs(server: TestServer, options: { token?: string; headers?: Record<string, string> } = {}) {
  const url = options.token ? `${server.wsUrl}?connectionParams=1` : server.wsUrl;
  const ws = new WebSocket(url, { headers: options.headers });
  const waiting = new Map<number, (message: any) => void>();
  ws.on("message", (data) => {
    const parsed = JSON.parse(String(data));
    for (const message of Array.isArray(parsed) ? parsed : [parsed]) waiting.get(message.id)?.(message);
  });
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  if (options.token) ws.send(JSON.stringify({ method: "connectionParams", data: { token: options.token } }));
  let nextId = 1;
  const request = (path: string, input: unknown, method: "query" | "mutation") => {
    const id = nextId++;
    const answer = new Promise<any>((resolve) => waiting.set(id, resolve));
    return { message: { id, method, params: { path, input } }, answer };
  };
  return {
    ws,
    /** One call; resolves with the server's answer message (`result` or `error`). */
    call(path: string, input?: unknown, method: "query" | "mutation" = "query"): Promise<any> {
      const { message, answer } = request(path, input, method);
      ws.send(JSON.stringify(message));
      return answer;
    },
    /** Sends `count` calls as one message (a batch), returning nothing: the server may refuse it whole. */
    sendBatch(path: string, count: number, method: "query" | "mutation" = "query") {
      ws.send(JSON.stringify(Array.from({ length: count }, () => request(path, undefined, method).message)));
    },
    /** The next message the server sends, whatever it is. */
    next(): Promise<any> {
      return new Promise((resolve) => ws.once("message", (data) => resolve(JSON.parse(String(data)))));
    },
    close: () => ws.close(),
  };
}
