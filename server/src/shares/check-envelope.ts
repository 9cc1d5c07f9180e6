import { AppError, type DeviceKey, idPattern } from "@osmynt/db";
import {
  compareRecipients,
  fromBase64url,
  parseEnvelope,
  parseForward,
  parseWrap,
  type RecipientWrap,
  type ShareEnvelope,
  ShareError,
  type ShareForward,
  type ShareManifest,
  wrapHash,
} from "@osmynt/sdk/crypto";

/**
 * What the server checks of an upload before it stores anything: sizes, the suite, canonical
 * base64url, the manifest's shape (the crypto core's parsers), and that the wrapped keys sent are
 * exactly the ones the signed manifest (or forward) lists. It cannot read anything; it makes sure
 * that what it stores is what the signer signed, so readers never get a key the signature does
 * not cover.
 */

/** A crypto-core refusal of the input, as a client error naming what is wrong. */
function asBadRequest<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ShareError) throw new AppError("BAD_REQUEST", `${what}: ${error.message}`, { reason: error.reason });
    throw error;
  }
}

const key = (d: { userId: string; deviceId: string }) => `${d.userId}\n${d.deviceId}`;

/** Parses the wraps and refuses a device listed twice. */
function parseWraps(raw: readonly unknown[]): RecipientWrap[] {
  const wraps = raw.map((w, i) => asBadRequest(`recipients[${i}]`, () => parseWrap(w)));
  const seen = new Set<string>();
  for (const w of wraps) {
    if (seen.has(key(w)))
      throw new AppError("BAD_REQUEST", `recipients: device ${w.deviceId} of user ${w.userId} is listed twice`, {
        userId: w.userId,
        deviceId: w.deviceId,
      });
    seen.add(key(w));
  }
  return wraps;
}

/** Every wrap sent must be the one a signed entry hashes, and every signed entry must come with its wrap. */
async function matchSigned(wraps: RecipientWrap[], entries: ShareManifest["recipients"], signedBy: string): Promise<void> {
  const byDevice = new Map(entries.map((e) => [key(e), e]));
  for (const w of wraps) {
    const entry = byDevice.get(key(w));
    if (!entry)
      throw new AppError("BAD_REQUEST", `recipients: device ${w.deviceId} of user ${w.userId} is not in the ${signedBy}`, {
        userId: w.userId,
        deviceId: w.deviceId,
      });
    const hash = await wrapHash(fromBase64url(w.enc), fromBase64url(w.wrappedKey));
    if (entry.kemKeyId !== w.kemKeyId || entry.wrapHash !== hash)
      throw new AppError(
        "BAD_REQUEST",
        `recipients: the wrapped key for device ${w.deviceId} of user ${w.userId} is not the one the ${signedBy} signs`,
        {
          userId: w.userId,
          deviceId: w.deviceId,
        },
      );
  }
  if (wraps.length !== entries.length) {
    const sent = new Set(wraps.map(key));
    const unsent = entries.filter((e) => !sent.has(key(e))).map((e) => ({ userId: e.userId, deviceId: e.deviceId }));
    throw new AppError("BAD_REQUEST", `recipients: the ${signedBy} lists ${unsent.length} device(s) without a wrapped key`, { unsent });
  }
}

export interface CheckedShare {
  envelope: ShareEnvelope;
  wraps: RecipientWrap[];
  ciphertextBytes: number;
}

export async function checkEnvelope(
  input: { envelope: unknown; recipients: readonly unknown[]; target: { teamId: string } | { userId: string } },
  params: { userId: string; maxCiphertextBytes: number },
): Promise<CheckedShare> {
  const raw = input.envelope as { ciphertext?: unknown };
  // Refuse an oversized upload before decoding it.
  if (typeof raw.ciphertext === "string" && raw.ciphertext.length > Math.ceil((params.maxCiphertextBytes * 4) / 3))
    throw tooLarge(params.maxCiphertextBytes);
  const envelope = asBadRequest("envelope", () => parseEnvelope(input.envelope));
  const m = envelope.manifest;
  // The signed share id becomes the row's id and every event's shareId: it must be a share id.
  if (!idPattern("share").test(m.shareId) || m.shareId.length > 64)
    throw new AppError("BAD_REQUEST", "envelope.manifest.shareId is not a share id (shr_…, at most 64 characters)");
  const ciphertextBytes = fromBase64url(envelope.ciphertext).length;
  if (ciphertextBytes > params.maxCiphertextBytes) throw tooLarge(params.maxCiphertextBytes);
  if (ciphertextBytes !== m.ciphertextLength)
    throw new AppError("BAD_REQUEST", `envelope: the ciphertext is ${ciphertextBytes} bytes, the manifest signs ${m.ciphertextLength}`);
  if (m.senderUserId !== params.userId)
    throw new AppError("BAD_REQUEST", `envelope: the manifest names ${m.senderUserId} as its sender, not you`);
  const sameTarget =
    "teamId" in input.target
      ? "teamId" in m.target && m.target.teamId === input.target.teamId
      : "userId" in m.target && m.target.userId === input.target.userId;
  if (!sameTarget) throw new AppError("BAD_REQUEST", "envelope: the manifest is signed for another target than `target`");
  const wraps = parseWraps(input.recipients);
  await matchSigned(wraps, m.recipients, "signed manifest");
  return { envelope, wraps: wraps.sort(compareRecipients), ciphertextBytes };
}

function tooLarge(max: number): AppError {
  return new AppError("PAYLOAD_TOO_LARGE", `envelope.ciphertext is larger than the limit of ${max} bytes (SHARE_MAX_CIPHERTEXT_BYTES)`, {
    maxCiphertextBytes: max,
  });
}

/** A forward record and its wraps, checked like an upload (shape, duplicates, wraps = signed entries). */
export async function checkForward(
  input: { id: string; forward: unknown; recipients: readonly unknown[] },
  params: { userId: string },
): Promise<{ forward: ShareForward; wraps: RecipientWrap[] }> {
  const forward = asBadRequest("forward", () => parseForward(input.forward));
  if (forward.shareId !== input.id)
    throw new AppError("BAD_REQUEST", `forward: the record is for share ${forward.shareId}, not ${input.id}`);
  if (forward.forwarderUserId !== params.userId)
    throw new AppError("BAD_REQUEST", `forward: the record names ${forward.forwarderUserId} as its forwarder, not you`);
  const wraps = parseWraps(input.recipients);
  await matchSigned(wraps, forward.recipients, "signed forward");
  return { forward, wraps };
}

/**
 * The exact-recipients rule (api.md, like Signal's mismatched devices): `missing` are active
 * devices left out, `extra` are devices listed that are not active devices of the target
 * (revoked, unknown, not a member), `stale` are devices listed with a key they rotated away from.
 */
export function recipientDiff(expected: readonly DeviceKey[], given: readonly DeviceKey[]) {
  const want = new Map(expected.map((d) => [key(d), d]));
  const got = new Map(given.map((d) => [key(d), d]));
  const pick = (d: DeviceKey) => ({ userId: d.userId, deviceId: d.deviceId });
  const missing = expected.filter((d) => !got.has(key(d))).map(pick);
  const extra = given.filter((d) => !want.has(key(d))).map(pick);
  const stale = given.filter((d) => want.has(key(d)) && want.get(key(d))?.kemKeyId !== d.kemKeyId).map(pick);
  return { missing, extra, stale, ok: missing.length + extra.length + stale.length === 0 };
}
