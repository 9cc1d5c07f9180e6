import type { Config } from "../env.js";
import type { Budget } from "./limiter.js";

/** The stricter budgets a procedure can draw from (their sizes are settings, see env.ts). */
export type ProcedureBudget = "signIn" | "inviteAccept" | "pairing";

/**
 * Stricter budgets for procedures worth guessing at or costly to abuse, keyed by procedure path;
 * `prefix.*` covers every procedure below `prefix`. Procedures naming the same budget share it
 * (devLogin and refresh draw from one sign-in allowance), counted per client address and, when
 * signed in, per user, on top of the general budgets. A new procedure of this kind adds its line.
 */
export const procedureBudgets: Readonly<Record<string, ProcedureBudget>> = {
  "auth.devLogin": "signIn",
  "auth.loginWithGitHubToken": "signIn",
  "auth.handshake.init": "signIn",
  "auth.refresh": "signIn",
  "teams.invites.accept": "inviteAccept",
  // Starting a pairing and answering one are what a flood or a guesser repeats; the steps in
  // between (reveal, confirm, get) are one each per pairing, which the relay itself enforces.
  "keys.pairing.init": "pairing",
  "keys.pairing.respond": "pairing",
};

/** The stricter budget of a procedure path, if it has one (exact entry first, then the longest `.*` prefix). */
export function procedureBudgetOf(path: string): ProcedureBudget | undefined {
  const exact = procedureBudgets[path];
  if (exact) return exact;
  let best: { length: number; budget: ProcedureBudget } | undefined;
  for (const [pattern, budget] of Object.entries(procedureBudgets)) {
    if (!pattern.endsWith(".*")) continue;
    const prefix = pattern.slice(0, -1);
    if (path.startsWith(prefix) && prefix.length > (best?.length ?? -1)) best = { length: prefix.length, budget };
  }
  return best?.budget;
}

const MINUTE = 60_000;

export function budgetsOf(config: Config) {
  const perMinute = (points: number): Budget => ({ points, windowMs: MINUTE });
  return {
    /** Every HTTP request and every call over WebSocket from one client address. */
    perAddress: perMinute(config.rateLimits.perAddress),
    /** Every call of one signed-in user, over any transport, from anywhere. */
    perUser: perMinute(config.rateLimits.perUser),
    procedure: {
      signIn: perMinute(config.rateLimits.signIn),
      inviteAccept: perMinute(config.rateLimits.inviteAccept),
      pairing: perMinute(config.rateLimits.pairing),
    } satisfies Record<ProcedureBudget, Budget>,
  };
}
