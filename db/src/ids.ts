import { randomBytes } from "node:crypto";

/**
 * Prefixed random ids (`usr_…`, `ses_…`): a log line or URL says what an id names.
 * 15 random bytes → 20 base64url characters, 120 bits: unguessable and collision-free in practice.
 */
export const idPrefixes = {
  user: "usr",
  session: "ses",
  refreshToken: "rtk",
  team: "tm",
  invite: "inv",
  share: "shr",
  /** Made on the device by the SDK's crypto core (it is signed into the device log), not by newId. */
  device: "dev",
  /** A user's recovery key, which appears in the device log as a device; also made by the SDK. */
  recoveryKey: "rec",
  handshake: "hs",
  pairing: "pair",
  audit: "aud",
} as const;

export type IdKind = keyof typeof idPrefixes;

export function newId(kind: IdKind): string {
  return `${idPrefixes[kind]}_${randomBytes(15).toString("base64url")}`;
}

/**
 * What an id of `kind` looks like: its prefix, then base64url characters. Checked at the edge so
 * that nothing else (NUL bytes, control characters, another kind's id) ever reaches a query.
 * The length is left open (ids made by older code or tests may be shorter); callers bound it.
 */
export function idPattern(kind: IdKind | readonly IdKind[]): RegExp {
  const prefixes = (typeof kind === "string" ? [kind] : kind).map((k) => idPrefixes[k]);
  return new RegExp(`^(?:${prefixes.join("|")})_[A-Za-z0-9_-]+$`);
}
