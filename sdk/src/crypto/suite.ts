/**
 * Suite SNIP1-P256 (crypto.md §8): HPKE base mode DHKEM(P-256, HKDF-SHA256) / HKDF-SHA256 /
 * AES-256-GCM for key wrapping, AES-256-GCM content encryption, ECDSA P-256/SHA-256 (P1363)
 * signatures, SHA-256, HMAC-SHA256, HKDF-SHA256. The suite id is signed and allow-listed: there is
 * no negotiation, so nothing can be downgraded.
 */
export const SUITE = "SNIP1-P256";
export type Suite = typeof SUITE;
