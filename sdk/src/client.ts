import { createTRPCClient, httpBatchLink, httpLink, splitLink, type TRPCClient, type TRPCWebSocketClient, wsLink } from "@trpc/client";
import type { AppRouter, Session } from "./app-router.js";
import { authLink, tokenOf } from "./auth-link.js";
import { type ConnectionStatus, watchConnection } from "./connection-status.js";
import type { EventStream } from "./event-stream.js";
import { eventStreams } from "./event-streams.js";
import type { EventsOptions } from "./event-types.js";
import { memorySessionStore, type SessionStore } from "./memory-session-store.js";
import { callbackTokenSource, isUnauthorized, SessionKeeper, type TokenSource } from "./session-keeper.js";
import { browserSignInTransport, type SignInWithBrowserOptions, signInWithBrowser } from "./sign-in-browser.js";
import type { EventSourceConstructor } from "./sse.js";
import { endpointsOf } from "./urls.js";
import { type WebSocketConstructor, webSocketClient } from "./websocket.js";

export interface OsmyntClientOptions {
  /** The server's base URL, such as `http://127.0.0.1:8787`; its tRPC endpoint `/trpc` is added. */
  url: string;
  /** Where the session lives; the client stores each refreshed session back. Default: in memory. */
  session?: SessionStore;
  /** Instead of a session: the caller's own source of access tokens. The client then never refreshes. */
  getAccessToken?: () => Promise<string | null>;
  /** Default: the platform's WebSocket, or the `ws` package's on Node 20, which has none. */
  WebSocket?: WebSocketConstructor;
  fetch?: typeof globalThis.fetch;
  /** Extra headers on every HTTP request. */
  headers?: Record<string, string>;
  /** Refresh when the access token expires within this many ms. Default 30 s. */
  refreshMarginMs?: number;
  /** For `events({ transport: "sse" })`: a class taking `{ fetch }`. Default: the `eventsource` package. */
  EventSource?: EventSourceConstructor;
}

/** What the client adds to the tRPC proxy. Only `events` is also a router name, and keeps it. */
export interface OsmyntClientExtras {
  /** Signs in with `auth.devLogin` (local development servers only) and stores the session. */
  signInWithDevLogin(login: string): Promise<Session>;
  /**
   * Signs in with GitHub in the browser: `openUrl(url, userCode)` opens the page and shows the
   * person the code it asks for; the session comes back sealed to
   * a key that never leaves this process, and is stored.
   * @example await client.signInWithBrowser({ openUrl: (url, code) => { vscode.window.showInformationMessage(`Sign-in code: ${code}`); vscode.env.openExternal(vscode.Uri.parse(url)); } });
   */
  signInWithBrowser(options: SignInWithBrowserOptions): Promise<Session>;
  /** Signs in with a GitHub access token the caller holds (`gh auth token`) and stores the session. */
  signInWithGitHubToken(githubToken: string): Promise<Session>;
  /** Ends the session on the server (if it is still open) and forgets it locally. */
  signOut(): Promise<void>;
  /** The stored session, if any (null with `getAccessToken`). */
  getSession(): Promise<Session | null>;
  /**
   * The live event stream, for `for await`: typed events in log order, each exactly once, across
   * reconnects. Throws `ResyncRequiredError` when `lastEventId` is too old (or unknown), and the
   * UNAUTHORIZED error when the session has ended. `break` or `signal` ends it. The router's own
   * procedures stay where they were: `client.events.subscribe.subscribe(...)`.
   */
  readonly events: ((options?: EventsOptions) => EventStream) & TRPCClient<AppRouter>["events"];
  /** Calls `listener` with the WebSocket's status now and on every change; returns the unsubscribe. */
  onConnectionStatus(listener: (status: ConnectionStatus) => void): () => void;
  /** tRPC's own view of the WebSocket (`idle`, `connecting`, `pending` = open): `.get()`, `.subscribe()`. */
  readonly connectionState: TRPCWebSocketClient["connectionState"];
  /** Ends every `events()` iteration and closes the WebSocket. HTTP calls keep working. */
  close(): Promise<void>;
}

export type OsmyntClient = TRPCClient<AppRouter> & OsmyntClientExtras;

/**
 * The typed Osmynt client: subscriptions over one WebSocket (lazy, reconnecting with backoff and
 * resuming tracked streams), everything else over batched HTTP, with access tokens refreshed
 * before they expire and once more when the server says UNAUTHORIZED.
 * @example
 * const client = createOsmyntClient({ url: "http://127.0.0.1:8787" });
 * await client.signInWithDevLogin("octocat");
 * const me = await client.auth.me.query();
 */
export function createOsmyntClient(options: OsmyntClientOptions): OsmyntClient {
  if (options.session && options.getAccessToken) throw new TypeError("createOsmyntClient: pass either session or getAccessToken, not both");
  const endpoints = endpointsOf(options.url);
  const fetchImpl = options.fetch;
  const plain = createTRPCClient<AppRouter>({ links: [httpLink({ url: endpoints.http, fetch: fetchImpl, headers: options.headers })] });

  const keeper = options.getAccessToken
    ? null
    : new SessionKeeper({
        store: options.session ?? memorySessionStore(),
        refresh: (refreshToken) => plain.auth.refresh.mutate({ refreshToken }),
        refreshMarginMs: options.refreshMarginMs,
      });
  const tokens: TokenSource = keeper ?? callbackTokenSource(options.getAccessToken as () => Promise<string | null>);

  const wsClient = webSocketClient(endpoints.ws, tokens, options.WebSocket);

  const trpc = createTRPCClient<AppRouter>({
    links: [
      authLink(tokens),
      splitLink({
        condition: (op) => op.type === "subscription",
        true: wsLink<AppRouter>({ client: wsClient }),
        false: httpBatchLink({
          url: endpoints.http,
          fetch: fetchImpl,
          headers: ({ opList }) => {
            const token = opList
              .map(tokenOf)
              .filter((t): t is string => t !== null)
              .at(-1);
            return token ? { ...options.headers, authorization: `Bearer ${token}` } : { ...options.headers };
          },
        }),
      }),
    ],
  });

  const streams = eventStreams((input, handlers) => trpc.events.subscribe.subscribe(input, handlers), tokens, {
    url: endpoints.http,
    tokens,
    fetch: fetchImpl,
    headers: options.headers,
    EventSource: options.EventSource,
  });

  const extras: OsmyntClientExtras = {
    async signInWithDevLogin(login) {
      const session = await plain.auth.devLogin.mutate({ login });
      await keeper?.setSession(session);
      return session;
    },
    signInWithBrowser: (signInOptions) =>
      signInWithBrowser(
        browserSignInTransport(
          { plain, live: trpc, connection: wsClient.connectionState },
          async (session) => await keeper?.setSession(session),
        ),
        signInOptions,
      ),
    async signInWithGitHubToken(githubToken) {
      const session = await plain.auth.loginWithGitHubToken.mutate({ githubToken });
      await keeper?.setSession(session);
      return session;
    },
    async signOut() {
      try {
        await trpc.auth.logout.mutate();
      } catch (error) {
        if (!isUnauthorized(error)) throw error;
      }
      await keeper?.setSession(null);
    },
    getSession: async () => (keeper ? await keeper.session() : null),
    // Callable for the stream, while its properties stay the router's `events.*` procedures.
    events: new Proxy(streams.start, { get: (_fn, key) => Reflect.get(trpc.events, key) }) as OsmyntClientExtras["events"],
    onConnectionStatus: (listener) => watchConnection(wsClient.connectionState, listener),
    connectionState: wsClient.connectionState,
    async close() {
      await streams.endAll();
      await wsClient.close();
    },
  };
  // tRPC's client is a proxy that turns every property into a procedure path; the few extras are
  // answered first, and everything else still reaches it.
  return new Proxy(trpc, {
    get: (target, key, receiver) =>
      Object.hasOwn(extras, key) ? extras[key as keyof OsmyntClientExtras] : Reflect.get(target, key, receiver),
  }) as OsmyntClient;
}
