/**
 * Errors that say a client broke the protocol (an oversized or malformed WebSocket frame, bad
 * UTF-8): the `ws` library gives them `WS_ERR_*` codes. They are the client's mistake, logged at
 * warn in one line without a stack; error level stays for the server's own faults.
 */
export function wsProtocolErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("WS_ERR_") ? code : undefined;
}
