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
  device: "dev",
  handshake: "hs",
  pairing: "pair",
  audit: "aud",
} as const;

export type IdKind = keyof typeof idPrefixes;

export function newId(kind: IdKind): string {
  return `${idPrefixes[kind]}_${randomBytes(15).toString("base64url")}`;
}
