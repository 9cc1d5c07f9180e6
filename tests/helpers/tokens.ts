import { decodeJwt, SignJWT } from "jose";

/** The session id an access token names (its `sid` claim), read without verifying. */
export function sessionIdOf(accessToken: string): string {
  const sid = decodeJwt(accessToken).sid;
  if (typeof sid !== "string") throw new Error("access token has no sid claim");
  return sid;
}

/**
 * Re-signs the claims of a real access token with changes: a past `exp`, another secret, other
 * claims. The result is a real HS256 JWT the server has to judge on its merits.
 */
export async function resignAccessToken(
  accessToken: string,
  options: { secret: string; exp?: number; iat?: number; claims?: Record<string, unknown> },
): Promise<string> {
  const payload = { ...decodeJwt(accessToken), ...options.claims };
  if (options.exp !== undefined) payload.exp = options.exp;
  if (options.iat !== undefined) payload.iat = options.iat;
  return new SignJWT(payload).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(new TextEncoder().encode(options.secret));
}

/** Swaps the payload of a signed token for another one, keeping header and signature. */
export function tamperPayload(accessToken: string, changes: Record<string, unknown>): string {
  const [header, , signature] = accessToken.split(".");
  const payload = { ...decodeJwt(accessToken), ...changes };
  return `${header}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${signature}`;
}
