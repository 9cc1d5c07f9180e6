import { utf8 } from "../bytes.js";
import { fromBase64url } from "../encoding.js";
import { DeviceLogError } from "../errors.js";
import { SUITE } from "../suite.js";
import { DEVICE_LINK_TYPES, type DeviceLink, type DeviceLinkType, MAX_ID_LENGTH, MAX_NAME_LENGTH } from "./link.js";

const KEY_TEXT_MAX = 200;

function fail(message: string, seq?: number): never {
  throw new DeviceLogError("malformed_link", message, seq === undefined ? {} : { seq });
}

function id(value: unknown, field: string, seq?: number): string {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_ID_LENGTH || !/^[\x21-\x7e]+$/.test(value))
    fail(`${field} must be 1 to ${MAX_ID_LENGTH} printable ASCII characters`, seq);
  return value;
}

function base64(value: unknown, field: string, nullable: boolean, seq?: number): string | null {
  if (value === null && nullable) return null;
  if (typeof value !== "string" || value.length > KEY_TEXT_MAX)
    fail(`${field} must be a base64url string${nullable ? " or null" : ""}`, seq);
  try {
    fromBase64url(value);
  } catch {
    fail(`${field} is not canonical base64url`, seq);
  }
  return value;
}

function count(value: unknown, field: string, seq?: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) fail(`${field} must be a non-negative integer`, seq);
  return value;
}

/**
 * Checks that a value has the shape of a device link (types, lengths, base64url) and returns
 * exactly its known fields. Keys are only checked to be base64url here; `verifyLink` imports them.
 */
export function parseLink(value: unknown): DeviceLink {
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail("a device link must be an object");
  const l = value as Record<string, unknown>;
  const seq = count(l.seq, "seq");
  if (l.v !== 1)
    throw new DeviceLogError("unsupported_version", `link ${seq} has version ${String(l.v)}; only version 1 is known`, { seq });
  if (l.suite !== SUITE)
    throw new DeviceLogError("unsupported_suite", `link ${seq} uses suite ${String(l.suite)}; only ${SUITE} is allowed`, { seq });
  if (typeof l.type !== "string" || !DEVICE_LINK_TYPES.includes(l.type as DeviceLinkType))
    fail(`link ${seq} has type ${String(l.type)}; expected one of ${DEVICE_LINK_TYPES.join(", ")}`, seq);
  if (typeof l.name !== "string" || utf8(l.name).length > MAX_NAME_LENGTH)
    fail(`link ${seq}: name must be a string of at most ${MAX_NAME_LENGTH} bytes`, seq);
  const signature = base64(l.signature, "signature", false, seq);
  return {
    v: 1,
    suite: SUITE,
    userId: id(l.userId, "userId", seq),
    seq,
    prev: base64(l.prev, "prev", true, seq),
    type: l.type as DeviceLinkType,
    deviceId: id(l.deviceId, "deviceId", seq),
    signerDeviceId: id(l.signerDeviceId, "signerDeviceId", seq),
    signingKey: base64(l.signingKey, "signingKey", true, seq),
    kemKey: base64(l.kemKey, "kemKey", true, seq),
    name: l.name,
    createdAt: count(l.createdAt, "createdAt", seq),
    signature: signature as string,
    reverseSignature: base64(l.reverseSignature ?? null, "reverseSignature", true, seq),
  };
}
