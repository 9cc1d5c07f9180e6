import { handshakeUserCode, normalizeUserCode, userCodeKey } from "@osmynt/sdk/crypto";
import type { Config } from "../env.js";

/** Wrong codes the confirmation page accepts before the handshake is dead. */
export const USER_CODE_ATTEMPTS = 5;

const keys = new WeakMap<Uint8Array, Promise<Uint8Array>>();

/** The user code of a handshake, under a key derived from JWT_SECRET (the same on every instance). */
export function userCodeOf(config: Config, handshakeId: string, publicKey: string): Promise<string> {
  let key = keys.get(config.auth.jwtSecret);
  if (!key) {
    key = userCodeKey(config.auth.jwtSecret);
    keys.set(config.auth.jwtSecret, key);
  }
  return key.then((k) => handshakeUserCode(k, handshakeId, publicKey));
}

/** Whether `typed` is the handshake's code (case, spaces and dashes aside). */
export async function userCodeMatches(config: Config, handshake: { id: string; publicKey: string }, typed: string): Promise<boolean> {
  const expected = await userCodeOf(config, handshake.id, handshake.publicKey);
  const given = normalizeUserCode(typed.slice(0, 64));
  // Both are short public-alphabet strings of fixed shape; a length check first, then a full scan.
  if (given.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ given.charCodeAt(i);
  return diff === 0;
}
