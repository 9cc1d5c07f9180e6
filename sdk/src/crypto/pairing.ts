import { type Bytes, bytesEqual, concatBytes, lp, randomBytes, sha256, u64 } from "./bytes.js";
import type { DeviceKeys } from "./device-keys.js";
import type { DeviceLogHead } from "./device-log/link.js";
import { ecdhP256 } from "./ecdh.js";
import { fromBase64url, toBase64url } from "./encoding.js";
import { PairingError } from "./errors.js";
import { hkdfSha256, hmacSha256 } from "./kdf.js";
import { exportPublicKey, importPublicKey } from "./public-keys.js";

/**
 * Pairing a new device N with an existing device E by SAS with a hash commitment (crypto.md §5,
 * the Matrix m.sas.v1 / ZRTP pattern), over an untrusted relay:
 *   1. N → E  offer    {t, userId, N's deviceId, signing and KEM keys, c = H(t ‖ X_N ‖ keys)}
 *   2. E → N  response {t, E's deviceId, X_E}
 *   3. N → E  reveal   {t, X_N}; E checks c, so N's ephemeral key was fixed before it saw X_E
 *   4. both: Z = ECDH, PRK = HKDF-Extract(t, Z); an 8-digit code and a MAC key from PRK
 *   5. N shows the code, the user types it on E (sameSasCode) and confirms on N
 *   6. MACs: N's over its long-term keys, E's over the log root and head N should pin
 *   7. E appends add_device(N), reverse-signed by N (device-log `unsignedLink`/`reverseSignLink`)
 * The commitment limits a man in the middle to one guess of the code per run (1 in 10^8).
 * Messages are JSON (base64url); the secrets stay in the objects each side keeps.
 */
export const PAIR_COMMIT_LABEL = "snip/v1/pair-commit";
export const SAS_LABEL = "snip/v1/sas";
export const PAIR_MAC_KEY_LABEL = "snip/v1/pair-mac";
export const PAIR_MAC_NEW_LABEL = "snip/v1/pair-mac-new-device";
export const PAIR_MAC_EXISTING_LABEL = "snip/v1/pair-mac-existing-device";

export interface PairingOffer {
  transactionId: string;
  userId: string;
  deviceId: string;
  signingKey: string;
  kemKey: string;
  commitment: string;
}
export interface PairingResponse {
  transactionId: string;
  deviceId: string;
  ephemeralKey: string;
}
export interface PairingReveal {
  transactionId: string;
  ephemeralKey: string;
}

/** What N keeps between steps: its ephemeral ECDH key (non-extractable) and its offer. */
export interface NewDevicePairing {
  offer: PairingOffer;
  ephemeral: CryptoKeyPair;
  ephemeralKey: string;
}
/** What E keeps: its ephemeral key, the offer it answered, its response. */
export interface ExistingDevicePairing {
  offer: PairingOffer;
  response: PairingResponse;
  ephemeral: CryptoKeyPair;
}

/** The agreed secrets of one run: the code to compare and the MAC key for step 6. */
export interface PairingSession {
  transactionId: string;
  /** 8 digits shown as "1234 5678". */
  sas: string;
  offer: PairingOffer;
  existingDeviceId: string;
  macKey: Bytes;
}

function field(value: unknown, what: string): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 200)
    throw new PairingError("malformed_message", `${what} is missing or malformed`);
  return value;
}

async function ephemeralPair(): Promise<{ ephemeral: CryptoKeyPair; ephemeralKey: string }> {
  const ephemeral = (await globalThis.crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, [
    "deriveBits",
  ])) as CryptoKeyPair;
  return { ephemeral, ephemeralKey: await exportPublicKey(ephemeral.publicKey) };
}

function commitment(offer: Omit<PairingOffer, "commitment">, ephemeralKey: string): Promise<Bytes> {
  return sha256(
    lp(PAIR_COMMIT_LABEL),
    lp(fromBase64url(offer.transactionId)),
    lp(offer.userId),
    lp(offer.deviceId),
    lp(fromBase64url(ephemeralKey)),
    lp(fromBase64url(offer.signingKey)),
    lp(fromBase64url(offer.kemKey)),
  );
}

/** Step 1, on the new device: its offer, committing to an ephemeral key it reveals later. */
export async function createPairingOffer(params: { userId: string; newDevice: DeviceKeys }): Promise<NewDevicePairing> {
  if (!params.newDevice.kemPublicKey) throw new PairingError("malformed_message", "a paired device needs a KEM key");
  const { ephemeral, ephemeralKey } = await ephemeralPair();
  const unsigned = {
    transactionId: toBase64url(randomBytes(16)),
    userId: params.userId,
    deviceId: params.newDevice.deviceId,
    signingKey: params.newDevice.signingPublicKey,
    kemKey: params.newDevice.kemPublicKey,
  };
  return { offer: { ...unsigned, commitment: toBase64url(await commitment(unsigned, ephemeralKey)) }, ephemeral, ephemeralKey };
}

/** Validates an offer from the relay (shape and keys). */
export async function parsePairingOffer(value: unknown): Promise<PairingOffer> {
  const o = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  const offer: PairingOffer = {
    transactionId: field(o.transactionId, "transactionId"),
    userId: field(o.userId, "userId"),
    deviceId: field(o.deviceId, "deviceId"),
    signingKey: field(o.signingKey, "signingKey"),
    kemKey: field(o.kemKey, "kemKey"),
    commitment: field(o.commitment, "commitment"),
  };
  try {
    if (fromBase64url(offer.transactionId).length !== 16 || fromBase64url(offer.commitment).length !== 32) throw new Error("length");
    await importPublicKey(offer.signingKey, "signing", "the new device's signing key");
    await importPublicKey(offer.kemKey, "kem", "the new device's KEM key");
  } catch (error) {
    throw new PairingError("malformed_message", `the pairing offer is malformed: ${(error as Error).message}`, { cause: error });
  }
  return offer;
}

/** Step 2, on the existing device: answer the offer with a fresh ephemeral key. */
export async function respondToPairingOffer(params: { offer: unknown; existingDevice: DeviceKeys }): Promise<ExistingDevicePairing> {
  const offer = await parsePairingOffer(params.offer);
  const { ephemeral, ephemeralKey } = await ephemeralPair();
  return { offer, ephemeral, response: { transactionId: offer.transactionId, deviceId: params.existingDevice.deviceId, ephemeralKey } };
}

/** Step 3, on the new device: reveal the committed key (only after the response arrived). */
export function revealPairingKey(pairing: NewDevicePairing): PairingReveal {
  return { transactionId: pairing.offer.transactionId, ephemeralKey: pairing.ephemeralKey };
}

async function session(
  offer: PairingOffer,
  existingDeviceId: string,
  own: CryptoKeyPair,
  newKey: string,
  existingKey: string,
  peerKey: string,
) {
  const z = await ecdhP256(own.privateKey, peerKey);
  const salt = fromBase64url(offer.transactionId);
  const transcript = concatBytes(
    lp(fromBase64url(newKey)),
    lp(fromBase64url(existingKey)),
    lp(offer.userId),
    lp(offer.deviceId),
    lp(existingDeviceId),
  );
  const code = await hkdfSha256(z, salt, concatBytes(lp(SAS_LABEL), transcript), 5);
  const macKey = await hkdfSha256(z, salt, concatBytes(lp(PAIR_MAC_KEY_LABEL), transcript), 32);
  let n = 0;
  for (const b of code) n = n * 256 + b;
  const digits = String(n % 100_000_000).padStart(8, "0");
  return { transactionId: offer.transactionId, sas: `${digits.slice(0, 4)} ${digits.slice(4)}`, offer, existingDeviceId, macKey };
}

/** Step 4 on the new device, from E's response. */
export async function newDeviceSession(pairing: NewDevicePairing, response: unknown): Promise<PairingSession> {
  const r = (typeof response === "object" && response !== null ? response : {}) as Record<string, unknown>;
  if (field(r.transactionId, "transactionId") !== pairing.offer.transactionId)
    throw new PairingError("wrong_transaction", "the response belongs to another pairing");
  const existingKey = field(r.ephemeralKey, "ephemeralKey");
  return session(pairing.offer, field(r.deviceId, "deviceId"), pairing.ephemeral, pairing.ephemeralKey, existingKey, existingKey);
}

/** Step 4 on the existing device, from N's reveal: refuses a key that is not the one committed to. */
export async function existingDeviceSession(pairing: ExistingDevicePairing, reveal: unknown): Promise<PairingSession> {
  const r = (typeof reveal === "object" && reveal !== null ? reveal : {}) as Record<string, unknown>;
  if (field(r.transactionId, "transactionId") !== pairing.offer.transactionId)
    throw new PairingError("wrong_transaction", "the reveal belongs to another pairing");
  const newKey = field(r.ephemeralKey, "ephemeralKey");
  const { commitment: committed, ...unsigned } = pairing.offer;
  let expected: Bytes;
  try {
    expected = await commitment(unsigned, newKey);
  } catch {
    throw new PairingError("malformed_message", "the revealed key is not base64url");
  }
  if (!bytesEqual(expected, fromBase64url(committed)))
    throw new PairingError("commitment_mismatch", "the new device's key is not the one it committed to: the relay changed a message");
  return session(pairing.offer, pairing.response.deviceId, pairing.ephemeral, newKey, pairing.response.ephemeralKey, newKey);
}

/** Step 5 on the existing device: the code the user typed against the one computed here. */
export function sameSasCode(typed: string, session: PairingSession): boolean {
  const digits = (s: string) => s.replace(/\D/g, "");
  return bytesEqual(new TextEncoder().encode(digits(typed)), new TextEncoder().encode(digits(session.sas)));
}

/** What the existing device vouches for: the account's log, for N to pin. */
export interface ExistingDeviceClaim {
  userId: string;
  rootHash: string;
  head: DeviceLogHead;
  signingKey: string;
}

function newDeviceMacInput(offer: PairingOffer): Bytes {
  return concatBytes(
    lp(PAIR_MAC_NEW_LABEL),
    lp(offer.userId),
    lp(offer.deviceId),
    lp(fromBase64url(offer.signingKey)),
    lp(fromBase64url(offer.kemKey)),
  );
}

function existingDeviceMacInput(s: PairingSession, claim: ExistingDeviceClaim): Bytes {
  return concatBytes(
    lp(PAIR_MAC_EXISTING_LABEL),
    lp(claim.userId),
    lp(s.existingDeviceId),
    lp(fromBase64url(claim.rootHash)),
    u64(claim.head.seq),
    lp(fromBase64url(claim.head.hash)),
    lp(fromBase64url(claim.signingKey)),
  );
}

/** Step 6, new device → existing: a MAC over N's long-term keys. */
export async function newDeviceMac(s: PairingSession): Promise<string> {
  return toBase64url(await hmacSha256(s.macKey, newDeviceMacInput(s.offer)));
}

export async function verifyNewDeviceMac(s: PairingSession, mac: unknown): Promise<void> {
  const expected = await hmacSha256(s.macKey, newDeviceMacInput(s.offer));
  if (typeof mac !== "string" || !safeEqual(expected, mac))
    throw new PairingError("bad_mac", "the new device's keys were changed on the way (MAC mismatch): abort the pairing");
}

/** Step 6, existing device → new: a MAC over the log root, head and E's signing key. */
export async function existingDeviceMac(s: PairingSession, claim: ExistingDeviceClaim): Promise<string> {
  return toBase64url(await hmacSha256(s.macKey, existingDeviceMacInput(s, claim)));
}

export async function verifyExistingDeviceMac(s: PairingSession, claim: ExistingDeviceClaim, mac: unknown): Promise<void> {
  const expected = await hmacSha256(s.macKey, existingDeviceMacInput(s, claim));
  if (typeof mac !== "string" || !safeEqual(expected, mac))
    throw new PairingError("bad_mac", "the existing device's account details were changed on the way (MAC mismatch): abort the pairing");
}

function safeEqual(expected: Uint8Array, mac: string): boolean {
  try {
    return bytesEqual(expected, fromBase64url(mac));
  } catch {
    return false;
  }
}
