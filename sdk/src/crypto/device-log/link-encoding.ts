import { type Bytes, concatBytes, lp, sha256, u64 } from "../bytes.js";
import { fromBase64url, toBase64url } from "../encoding.js";
import type { DeviceLinkBody } from "./link.js";

export const LINK_LABEL = "snip/v1/device-link";
export const LINK_HASH_LABEL = "snip/v1/device-link-hash";
export const LINK_SIGNATURE_LABEL = "snip/v1/device-link-sig";
export const LINK_REVERSE_SIGNATURE_LABEL = "snip/v1/device-link-reverse-sig";

const optionalBytes = (value: string | null): Bytes => (value === null ? new Uint8Array(0) : fromBase64url(value));

/**
 * The canonical bytes of a link body: `LP(label) ‖ LP(suite) ‖ u64(v) ‖ LP(userId) ‖ u64(seq) ‖
 * LP(prev) ‖ LP(type) ‖ LP(deviceId) ‖ LP(signerDeviceId) ‖ LP(signingKey) ‖ LP(kemKey) ‖
 * LP(name) ‖ u64(createdAt)`, absent values as empty fields. Both signatures cover these bytes.
 * Throws on a body whose fields cannot be encoded (check the shape first).
 */
export function encodeLinkBody(body: DeviceLinkBody): Bytes {
  return concatBytes(
    lp(LINK_LABEL),
    lp(body.suite),
    u64(body.v),
    lp(body.userId),
    u64(body.seq),
    lp(optionalBytes(body.prev)),
    lp(body.type),
    lp(body.deviceId),
    lp(body.signerDeviceId),
    lp(optionalBytes(body.signingKey)),
    lp(optionalBytes(body.kemKey)),
    lp(body.name),
    u64(body.createdAt),
  );
}

/**
 * The link hash, `SHA-256(LP("snip/v1/device-link-hash") ‖ body)`: what the next link's `prev`
 * holds. It covers the body only, never the (malleable) ECDSA signatures, so one link has one hash.
 */
export async function linkHash(body: DeviceLinkBody): Promise<string> {
  return toBase64url(await sha256(lp(LINK_HASH_LABEL), encodeLinkBody(body)));
}

/** Only the signed fields of a link, in order (drops signatures and anything a transport added). */
export function linkBody(link: DeviceLinkBody): DeviceLinkBody {
  return {
    v: link.v,
    suite: link.suite,
    userId: link.userId,
    seq: link.seq,
    prev: link.prev,
    type: link.type,
    deviceId: link.deviceId,
    signerDeviceId: link.signerDeviceId,
    signingKey: link.signingKey,
    kemKey: link.kemKey,
    name: link.name,
    createdAt: link.createdAt,
  };
}
