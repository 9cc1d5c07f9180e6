import type { TRPCClient, TRPCWebSocketClient } from "@trpc/client";
import type { Unsubscribable } from "@trpc/server/observable";
import type { AppRouter, RouterProcedures, Session } from "./app-router.js";
import { watchConnection } from "./connection-status.js";
import { generateHandshakeKeyPair, openSealedSession } from "./crypto/handshake-crypto.js";
import { codeOf } from "./stream-errors.js";

type Init = RouterProcedures["auth.handshake.init"]["output"];
type Retrieved = RouterProcedures["auth.handshake.retrieve"]["output"];
type Sealed = { enc: string; ciphertext: string };
/** What names a handshake to the server: its id and the retrieval secret only this editor holds. */
type HandshakeRef = { handshakeId: string; retrievalSecret: string };

export interface SignInWithBrowserOptions {
  /**
   * Opens the sign-in page in the user's browser (`vscode.env.openExternal`, the `open` package,
   * or a test's headless browser) and shows the person `userCode` (e.g. `WDJB-MJHT`): the page
   * asks for it before going on to GitHub, so show it where they will see it (a notification,
   * the terminal). It is called once the editor is already listening.
   */
  openUrl: (url: string, userCode: string) => void | Promise<void>;
  /** Gives up waiting (the handshake then expires on the server by itself). */
  signal?: AbortSignal;
  /** How often `auth.handshake.retrieve` is asked when the live subscription is unavailable. Default 1 s. */
  pollIntervalMs?: number;
}

/** What browser sign-in needs from a client: the three handshake procedures, and where the session goes. */
export interface BrowserSignInTransport {
  init(publicKey: string): Promise<Init>;
  retrieve(handshake: HandshakeRef): Promise<Retrieved>;
  onComplete(
    handshake: HandshakeRef,
    handlers: { onData: (data: { sealedSession: Sealed }) => void; onError: (error: unknown) => void; onComplete: () => void },
  ): Unsubscribable;
  /** Calls `listener` when the subscription's connection fails (it then waits by polling instead). */
  onConnectionLost?(listener: () => void): () => void;
  store(session: Session): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `retrieve` until the session is there, the server says why it never will be, or time is up. */
async function pollRetrieve(t: BrowserSignInTransport, handshake: Init, options: SignInWithBrowserOptions): Promise<Sealed> {
  const deadline = Date.parse(handshake.expiresAt);
  while (Date.now() < deadline) {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error("browser sign-in was aborted");
    const answer = await t.retrieve({ handshakeId: handshake.handshakeId, retrievalSecret: handshake.retrievalSecret });
    if (answer.status === "complete") return answer.sealedSession;
    await sleep(options.pollIntervalMs ?? 1000);
  }
  throw new Error(`browser sign-in was not completed before the handshake expired (${handshake.expiresAt}); start again`);
}

/**
 * Waits for the sealed session: live through `auth.handshake.onComplete`, and through `retrieve`
 * polling if the subscription's connection fails. An answer from the server (expired, declined,
 * already retrieved) ends the wait with that error. `cancel` stops waiting.
 */
function waitForSealed(t: BrowserSignInTransport, handshake: Init, options: SignInWithBrowserOptions) {
  let cancel: (error: unknown) => void = () => {};
  const sealed = new Promise<Sealed>((resolve, reject) => {
    let settled = false;
    let polling = false;
    // Assigned below; handlers may run before that (a watcher reports the current state at once).
    let unsubscribe = () => {};
    let stopWatching = () => {};
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      unsubscribe();
      stopWatching();
      options.signal?.removeEventListener("abort", onAbort);
      outcome();
    };
    const fallBack = () => {
      if (settled || polling) return;
      polling = true;
      unsubscribe();
      stopWatching();
      pollRetrieve(t, handshake, options).then(
        (value) => finish(() => resolve(value)),
        (error) => finish(() => reject(error)),
      );
    };
    const onAbort = () => finish(() => reject(options.signal?.reason ?? new Error("browser sign-in was aborted")));
    const subscription = t.onComplete(
      { handshakeId: handshake.handshakeId, retrievalSecret: handshake.retrievalSecret },
      {
        onData: (data) => finish(() => resolve(data.sealedSession)),
        onError: (error) => (codeOf(error) === undefined ? fallBack() : finish(() => reject(error))),
        onComplete: fallBack,
      },
    );
    unsubscribe = () => subscription.unsubscribe();
    if (settled || polling) unsubscribe();
    // A WebSocket that cannot connect (a proxy that blocks it) only retries; it never errors the subscription.
    stopWatching = t.onConnectionLost?.(fallBack) ?? stopWatching;
    if (settled || polling) stopWatching();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    cancel = (error) => finish(() => reject(error));
  });
  // Awaited after openUrl returns; until then a rejection must not count as unhandled.
  sealed.catch(() => {});
  return { sealed, cancel };
}

/**
 * Signs in through the browser: an ephemeral P-256 key pair is made here, the server is asked for
 * a handshake bound to its public half, `openUrl` opens the page and shows the user code the page
 * asks for, the browser goes through GitHub, and the session comes back sealed to that key with
 * HPKE (only this process can open it), to whoever presents the handshake's retrieval secret
 * (held only here). The session is stored and returned.
 */
export async function signInWithBrowser(t: BrowserSignInTransport, options: SignInWithBrowserOptions): Promise<Session> {
  const key = await generateHandshakeKeyPair();
  const handshake = await t.init(key.publicKey);
  // Listen first, then open the browser: a fast browser cannot finish before anyone listens.
  const waiting = waitForSealed(t, handshake, options);
  try {
    await options.openUrl(handshake.authorizeUrl, handshake.userCode);
  } catch (error) {
    waiting.cancel(error);
    throw error;
  }
  const sealedSession = await waiting.sealed;
  const session = await openSealedSession({ keyPair: key.keyPair, handshakeId: handshake.handshakeId, sealedSession });
  await t.store(session);
  return session;
}

/**
 * The handshake procedures on a client's two tRPC clients: `plain` (HTTP, no access token: the
 * editor is signing in) for init and retrieve, and `live` (the WebSocket) for the subscription.
 */
export function browserSignInTransport(
  clients: { plain: TRPCClient<AppRouter>; live: TRPCClient<AppRouter>; connection?: TRPCWebSocketClient["connectionState"] },
  store: (session: Session) => Promise<void>,
): BrowserSignInTransport {
  const { connection } = clients;
  return {
    init: (publicKey) => clients.plain.auth.handshake.init.mutate({ publicKey }),
    retrieve: (ref) => clients.plain.auth.handshake.retrieve.mutate(ref),
    onComplete: (ref, handlers) => clients.live.auth.handshake.onComplete.subscribe(ref, handlers),
    ...(connection && {
      onConnectionLost: (listener: () => void) => watchConnection(connection, (status) => status.state === "reconnecting" && listener()),
    }),
    store,
  };
}
