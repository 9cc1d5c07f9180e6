import { concatBytes, lp, sha256, u64 } from "./bytes.js";
import { fromBase64url } from "./encoding.js";

/**
 * Safety numbers (crypto.md §4, Signal-style): 60 digits two users compare out of band to check
 * that each sees the other's real identity. Derived from both user fingerprints (UFP), sorted, so
 * both sides compute the same number; it changes only when one of the identities changes.
 *   digest = SHA-256(LP(label) ‖ u64(0) ‖ LP(ufp_lo) ‖ LP(ufp_hi)) ‖ SHA-256(… u64(1) …)
 *   12 groups of 5 digits, each a 40-bit big-endian chunk of the digest mod 100000.
 */
export const SAFETY_NUMBER_LABEL = "snip/v1/safety-number";

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
  return a.length - b.length;
}

export async function safetyNumber(fingerprintA: string, fingerprintB: string): Promise<string> {
  const [low, high] = [fromBase64url(fingerprintA), fromBase64url(fingerprintB)].sort(compareBytes) as [Uint8Array, Uint8Array];
  const part = (n: number) => sha256(lp(SAFETY_NUMBER_LABEL), u64(n), lp(low), lp(high));
  const digest = concatBytes(await part(0), await part(1));
  const groups: string[] = [];
  for (let g = 0; g < 12; g++) {
    let value = 0;
    for (let i = 0; i < 5; i++) value = value * 256 + (digest[g * 5 + i] ?? 0);
    groups.push(String(value % 100000).padStart(5, "0"));
  }
  return groups.join(" ");
}

/** Compares a safety number as typed (any spacing or punctuation) with the computed one. */
export function sameSafetyNumber(typed: string, computed: string): boolean {
  const digits = (s: string) => s.replace(/\D/g, "");
  return digits(typed).length === 60 && digits(typed) === digits(computed);
}
