import { type Operation, TRPCClientError, type TRPCLink } from "@trpc/client";
import { observable, type Unsubscribable } from "@trpc/server/observable";
import type { AppRouter } from "./app-router.js";
import { isUnauthorized, type TokenSource } from "./session-keeper.js";

/** Procedures that sign in: they need no access token, so they never wait for a refresh. */
const signInPaths = new Set(["auth.devLogin", "auth.refresh", "auth.loginWithGitHubToken"]);

/** The access token an operation was sent with, as `authLink` put it into the op's context. */
export function tokenOf(op: Pick<Operation, "context">): string | null {
  const token = op.context.accessToken;
  return typeof token === "string" ? token : null;
}

/**
 * Puts a fresh access token on every call (into `op.context`, where the HTTP link's headers and
 * the WebSocket's connectionParams read it), and when a query or mutation is answered
 * UNAUTHORIZED, refreshes once and retries it once. Subscriptions are not retried here: the
 * WebSocket authenticates once per connection, and wsLink reconnects on its own.
 * @see https://trpc.io/docs/client/links#creating-a-custom-link
 */
export function authLink(tokens: TokenSource): TRPCLink<AppRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        let inner: Unsubscribable | null = null;
        let stopped = false;

        const send = async (isRetry: boolean) => {
          const token = signInPaths.has(op.path) ? null : await tokens.accessToken();
          if (stopped) return;
          inner = next({ ...op, context: { ...op.context, accessToken: token } }).subscribe({
            next: (value) => observer.next(value),
            complete: () => observer.complete(),
            error: (error) => {
              if (isRetry || op.type === "subscription" || signInPaths.has(op.path) || !isUnauthorized(error)) {
                observer.error(error);
                return;
              }
              tokens.recover(token).then(
                (renewed) => {
                  if (stopped) return;
                  if (renewed) void send(true).catch(fail);
                  else observer.error(error);
                },
                () => observer.error(error),
              );
            },
          });
        };
        const fail = (cause: unknown) => {
          if (!stopped) observer.error(TRPCClientError.from(cause instanceof Error ? cause : new Error(String(cause))));
        };

        send(false).catch(fail);
        return () => {
          stopped = true;
          inner?.unsubscribe();
        };
      });
}
