/** The tRPC endpoints of a server, from its base URL (`http://127.0.0.1:8787`, with or without `/trpc`). */
export function endpointsOf(url: string): { http: string; ws: string } {
  const parsed = new URL(url);
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TypeError(`Osmynt server URL must start with http:// or https:// (got ${url})`);
  }
  const base = parsed.pathname.replace(/\/+$/, "");
  parsed.pathname = base.endsWith("/trpc") ? base : `${base}/trpc`;
  parsed.search = "";
  parsed.hash = "";
  const http = parsed.toString();
  parsed.protocol = parsed.protocol === "https:" ? "wss:" : "ws:";
  return { http, ws: parsed.toString() };
}
