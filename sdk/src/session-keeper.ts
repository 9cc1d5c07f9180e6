import { isTRPCClientError } from "@trpc/client";
import type { Session } from "./app-router.js";
import type { SessionStore } from "./memory-session-store.js";

/** Where the client's links get the access token to send, and what they do when it is refused. */
export interface TokenSource {
  /** The token to send now (refreshed first if it is about to expire), or null when signed out. */
  accessToken(): Promise<string | null>;
  /** The server refused `rejected`: true when there is now a different token worth one retry. */
  recover(rejected: string | null): Promise<boolean>;
}

export function isUnauthorized(error: unknown): boolean {
  return isTRPCClientError(error) && (error.data as { code?: unknown } | undefined)?.code === "UNAUTHORIZED";
}

/** How long a JWT was issued for (exp - iat), in ms; infinite when the token is not a JWT. */
function lifetimeMs(token: string): number {
  try {
    const payload = token.split(".")[1] ?? "";
    const claims = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))) as { iat?: unknown; exp?: unknown };
    if (typeof claims.iat === "number" && typeof claims.exp === "number") return (claims.exp - claims.iat) * 1000;
  } catch {}
  return Number.POSITIVE_INFINITY;
}

export interface SessionKeeperOptions {
  store: SessionStore;
  /** Exchanges a refresh token for a new session (auth.refresh, sent without an access token). */
  refresh: (refreshToken: string) => Promise<Session>;
  /** Refresh when the access token expires within this many ms (default 30 s, capped at half its lifetime). */
  refreshMarginMs?: number;
  now?: () => number;
}

/**
 * Keeps the session in the store fresh. Refreshes are single-flight: every caller that needs one
 * while it runs waits for the same request, because refresh tokens rotate and the server revokes
 * the whole session when an already-used refresh token comes back.
 */
export class SessionKeeper implements TokenSource {
  private inflight: Promise<Session | null> | null = null;
  private readonly marginMs: number;
  private readonly now: () => number;

  constructor(private readonly options: SessionKeeperOptions) {
    this.marginMs = options.refreshMarginMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  async session(): Promise<Session | null> {
    return await this.options.store.get();
  }

  async setSession(session: Session | null): Promise<void> {
    await this.options.store.set(session);
  }

  private msLeft(session: Session): number {
    return Date.parse(session.accessTokenExpiresAt) - this.now();
  }

  private expiresSoon(session: Session): boolean {
    // With short-lived tokens (the server allows 30 s) a fixed 30 s margin would refresh on every call.
    const margin = Math.min(this.marginMs, lifetimeMs(session.accessToken) / 2);
    return !(this.msLeft(session) > margin);
  }

  async accessToken(): Promise<string | null> {
    const session = await this.session();
    if (!session) return null;
    if (!this.expiresSoon(session)) return session.accessToken;
    try {
      return (await this.refresh(session))?.accessToken ?? null;
    } catch (error) {
      // The refresh could not be made (network, server down): the old token may still do.
      if (this.msLeft(session) > 0) return session.accessToken;
      throw error;
    }
  }

  async recover(rejected: string | null): Promise<boolean> {
    const session = await this.session();
    if (!session) return false;
    if (session.accessToken !== rejected) return true;
    const renewed = await this.refresh(session).catch(() => null);
    return renewed !== null && renewed.accessToken !== rejected;
  }

  /** Refreshes `stale` now, joining a refresh that is already running. */
  refresh(stale: Session): Promise<Session | null> {
    this.inflight ??= this.rotate(stale).finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async rotate(stale: Session): Promise<Session | null> {
    // Another client sharing the store (a second CLI process) may have rotated it already.
    const latest = (await this.session()) ?? stale;
    if (latest.refreshToken !== stale.refreshToken && !this.expiresSoon(latest)) return latest;
    try {
      const next = await this.options.refresh(latest.refreshToken);
      await this.setSession(next);
      return next;
    } catch (error) {
      if (!isUnauthorized(error)) throw error;
      // The refresh token is expired, unknown or revoked: this session is over for good.
      if ((await this.session())?.refreshToken === latest.refreshToken) await this.setSession(null);
      return null;
    }
  }
}

/** A token source around a caller's own `getAccessToken`: it never refreshes anything itself. */
export function callbackTokenSource(getAccessToken: () => Promise<string | null>): TokenSource {
  return {
    accessToken: getAccessToken,
    async recover(rejected) {
      const token = await getAccessToken();
      return token !== null && token !== rejected;
    },
  };
}
