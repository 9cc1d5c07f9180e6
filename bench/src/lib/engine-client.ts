import WebSocket from "ws";

/** The engine's tRPC procedures over plain HTTP (no transformer on the wire), as any outside client calls them. */
export async function call<T = any>(
  baseUrl: string,
  path: string,
  input: unknown,
  token?: string,
  kind: "query" | "mutation" = "mutation",
): Promise<T> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const url = `${baseUrl}/trpc/${path}`;
  const response =
    kind === "query"
      ? await fetch(input === undefined ? url : `${url}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers })
      : await fetch(url, { method: "POST", headers, body: JSON.stringify(input ?? null) });
  const body = (await response.json()) as { result?: { data: T }; error?: { message: string } };
  if (!body.result) throw new Error(`${path}: ${body.error?.message ?? response.status}`);
  return body.result.data;
}

export interface BenchUser {
  id: string;
  login: string;
  token: string;
}

export async function signUp(baseUrl: string, login: string): Promise<BenchUser> {
  const session = await call(baseUrl, "auth.devLogin", { login });
  return { id: session.user.id, login, token: session.accessToken };
}

/** Runs `work` over `items` with at most `concurrency` at a time. */
export async function pool<T, R>(items: T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i] as T, i);
      }
    }),
  );
  return out;
}

/** An owner and a team with `members` more users in it (joined through invites, as real members do). */
export async function seedTeam(
  baseUrl: string,
  members: number,
  tag: string,
): Promise<{ owner: BenchUser; teamId: string; members: BenchUser[] }> {
  const owner = await signUp(baseUrl, `${tag}-owner`);
  const team = await call(baseUrl, "teams.create", { name: `${tag} team` }, owner.token);
  const users = await pool(
    Array.from({ length: members }, (_, i) => i),
    8,
    (i) => signUp(baseUrl, `${tag}-m${i}`),
  );
  // An invite takes at most 1000 uses.
  for (let start = 0; start < users.length; start += 1000) {
    const batch = users.slice(start, start + 1000);
    const invite = await call(baseUrl, "teams.invites.create", { teamId: team.id, maxUses: batch.length }, owner.token);
    await pool(batch, 8, (user) => call(baseUrl, "teams.invites.accept", { token: invite.token }, user.token));
  }
  return { owner, teamId: team.id, members: users };
}

export interface Subscriber {
  ws: WebSocket;
  /** Resolves once the subscription has started (and, on the engine, handed out its first checkpoint). */
  started: Promise<void>;
  close(): void;
}

/**
 * One subscriber speaking tRPC's WebSocket protocol by hand: connection params with the token, one
 * `subscription` call to `events.subscribe`, then every `data` message handed to `onEvent`. The
 * same client runs against the raw baseline, so both sides parse the same messages.
 */
export function subscribe(
  wsUrl: string,
  token: string | null,
  onEvent: (event: any) => void,
  onEnd: (reason: string) => void = () => {},
): Subscriber {
  let closing = false;
  const ws = new WebSocket(token ? `${wsUrl}?connectionParams=1` : wsUrl, { perMessageDeflate: false });
  let resolveStarted!: () => void;
  let rejectStarted!: (error: Error) => void;
  const started = new Promise<void>((resolve, reject) => {
    resolveStarted = resolve;
    rejectStarted = reject;
  });
  ws.on("open", () => {
    if (token) ws.send(JSON.stringify({ method: "connectionParams", data: { token } }));
    ws.send(JSON.stringify({ id: 1, method: "subscription", params: { path: "events.subscribe", input: {} } }));
  });
  ws.on("message", (raw) => {
    const text = String(raw);
    // tRPC's keep-alive (the engine pings a connection after 25 s without a message from it).
    if (text === "PING") {
      ws.send("PONG");
      return;
    }
    const message = JSON.parse(text);
    if (message.error) {
      rejectStarted(new Error(message.error.message));
      onEnd(`error: ${message.error.message}`);
    } else if (message.result?.type === "stopped") onEnd("stopped by the server");
    else if (message.result?.type === "started") resolveStarted();
    // A tracked event travels as `{ id, data }` inside the result.
    else if (message.result?.type === "data") onEvent(message.result.data.data);
  });
  ws.on("error", (error) => rejectStarted(error));
  // A stream the server ends (slow consumer, keep-alive timeout, restart) loses what follows: this
  // client does not resume, so the measure reports such ends beside its lost deliveries.
  ws.on("close", (code, reason) => {
    if (!closing) onEnd(`closed ${code}${reason.length ? ` ${reason}` : ""}`);
  });
  return {
    ws,
    started,
    close: () => {
      closing = true;
      ws.close();
    },
  };
}
