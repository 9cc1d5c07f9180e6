import { expect } from "vitest";

const statusOf = {
  PARSE_ERROR: 400,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  BAD_GATEWAY: 502,
  TOO_MANY_REQUESTS: 429,
} as const;

export type ExpectedCode = keyof typeof statusOf;

/**
 * Asserts a tRPC error answer over HTTP: the status, the error code in `data`, a message that says
 * what went wrong, and nothing a client should not see (no stack). Returns the error.
 */
export function expectTrpcError(
  response: { status: number; body: any },
  code: ExpectedCode,
  message?: RegExp,
): { message: string; data: any } {
  const shown = JSON.stringify(response.body);
  expect(response.status, shown).toBe(statusOf[code]);
  expect(response.body?.error?.data?.code, shown).toBe(code);
  expect(response.body.error.data.httpStatus, shown).toBe(statusOf[code]);
  expect(typeof response.body.error.message, shown).toBe("string");
  expect(response.body.error.message.length, shown).toBeGreaterThan(10);
  if (message) expect(response.body.error.message, shown).toMatch(message);
  expect(response.body.error.data.stack, shown).toBeUndefined();
  return response.body.error;
}
