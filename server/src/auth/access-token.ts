import { errors, jwtVerify, SignJWT } from "jose";

const ISSUER = "osmynt";
const AUDIENCE = "osmynt-api";
const TOKEN_USE = "access";

export interface AccessClaims {
  userId: string;
  sessionId: string;
}

/**
 * The HMAC key of a secret, imported once: given the raw bytes, jose imports a WebCrypto key
 * on every sign and verify, a good part of the cost of checking a token.
 */
const keys = new WeakMap<Uint8Array, Promise<CryptoKey>>();
function hmacKey(secret: Uint8Array): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", Uint8Array.from(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    keys.set(secret, key);
  }
  return key;
}

export type VerifyResult = { ok: true; claims: AccessClaims; expiresAt: Date } | { ok: false; reason: string };

/** Short-lived HS256 access token naming the user and the session it belongs to. */
export async function signAccessToken(
  claims: AccessClaims,
  secret: Uint8Array,
  ttlSeconds: number,
): Promise<{ token: string; expiresAt: Date }> {
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ sid: claims.sessionId, use: TOKEN_USE })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(claims.userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(await hmacKey(secret));
  return { token, expiresAt: new Date((now + ttlSeconds) * 1000) };
}

/** Never throws: a bad token is an answer ("expired", "invalid signature"), not an exception. */
export async function verifyAccessToken(token: string, secret: Uint8Array): Promise<VerifyResult> {
  if (token.length > 4096) return { ok: false, reason: "access token is too long" };
  try {
    const { payload } = await jwtVerify(token, await hmacKey(secret), {
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ["HS256"],
    });
    if (
      payload.use !== TOKEN_USE ||
      typeof payload.sid !== "string" ||
      typeof payload.sub !== "string" ||
      typeof payload.exp !== "number"
    ) {
      return { ok: false, reason: "not an access token" };
    }
    return {
      ok: true,
      claims: { userId: payload.sub, sessionId: payload.sid },
      expiresAt: new Date(payload.exp * 1000),
    };
  } catch (error) {
    if (error instanceof errors.JWTExpired) return { ok: false, reason: "access token expired; refresh the session" };
    if (error instanceof errors.JWSSignatureVerificationFailed) return { ok: false, reason: "access token signature is invalid" };
    if (error instanceof errors.JWTClaimValidationFailed) return { ok: false, reason: "access token was not issued for this API" };
    return {
      ok: false,
      reason: "access token is malformed (a refresh token is not an access token)",
    };
  }
}
