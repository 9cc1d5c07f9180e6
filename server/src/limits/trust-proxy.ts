import type { IncomingMessage } from "node:http";
import proxyAddr from "@fastify/proxy-addr";

/**
 * Which `X-Forwarded-For` entries to believe. `false`: none (clients connect directly). `hops`:
 * that many proxies stand in front of every instance, each appending the address it saw; safe
 * only when an instance cannot be reached except through them. `addresses`: only proxies at these
 * addresses or CIDR ranges are believed, wherever the instance is reachable (preferred).
 */
export type TrustProxy = false | { hops: number } | { addresses: string[] };

export type TrustFunction = (address: string, hop: number) => boolean;

const advice =
  "give the number of proxies in front of the engine (e.g. TRUST_PROXY=1) or their addresses or CIDR ranges (e.g. TRUST_PROXY=10.0.0.0/8,192.168.1.5)";

/** Parses TRUST_PROXY; returns an error message for values that must be refused. */
export function parseTrustProxy(raw: string | undefined): TrustProxy | { error: string } {
  const value = raw?.trim() ?? "";
  if (value === "" || value === "false" || value === "0") return false;
  if (value === "true") {
    return { error: `"true" would believe any X-Forwarded-For a client makes up, defeating per-client limits; ${advice}` };
  }
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return hops <= 32 ? { hops } : { error: `${hops} proxy hops is not plausible; ${advice}` };
  }
  const addresses = value
    .split(",")
    .map((a) => a.trim())
    .filter(Boolean);
  try {
    proxyAddr.compile(addresses);
  } catch (error) {
    return { error: `${(error as Error).message}; ${advice}` };
  }
  return { addresses };
}

/** The trust function Fastify and the WebSocket side both use, so both see the same client address. */
export function trustFunction(trust: TrustProxy): TrustFunction | false {
  if (trust === false) return false;
  if ("hops" in trust) return (_address, hop) => hop < trust.hops;
  return proxyAddr.compile(trust.addresses);
}

/** The client's address of a raw request (a WebSocket upgrade), as Fastify's `request.ip` would say. */
export function clientAddress(req: IncomingMessage, trust: TrustFunction | false): string | undefined {
  if (!req.socket?.remoteAddress) return undefined;
  return trust ? proxyAddr(req, trust) : req.socket.remoteAddress;
}
