import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type Config, isLoopbackHost } from "../env.js";

/** The host name of a `Host` header (`[::1]:8787` → `[::1]`, `localhost:8787` → `localhost`). */
function hostNameOf(host: string | undefined): string | null {
  if (!host) return null;
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return null;
  }
}

/**
 * Whether a WebSocket may be opened from `origin` (a browser page's origin; non-browser clients
 * send none). The allow-list is CORS_ORIGINS; without one, only loopback pages (a local tool
 * talking to a local server) are allowed. Browsers do not apply CORS to WebSockets, so without
 * this check any web page the developer has open could open one and act through it.
 */
export function websocketOriginAllowed(config: Pick<Config, "corsOrigins">, origin: string | undefined): boolean {
  if (origin === undefined) return true;
  if (config.corsOrigins === "*") return true;
  if (config.corsOrigins.length > 0) return config.corsOrigins.includes(origin);
  try {
    const url = new URL(origin);
    return (url.protocol === "http:" || url.protocol === "https:") && isLoopbackHost(url.hostname);
  } catch {
    return false;
  }
}

function refuse(reply: FastifyReply, message: string) {
  return reply
    .code(403)
    .header("content-type", "application/json")
    .send({ error: { code: "FORBIDDEN", message } });
}

/**
 * Guards that run before any route, WebSocket upgrades included:
 * - a WebSocket upgrade from a foreign `Origin` is refused (403, so the socket never opens);
 * - in local development mode (devLogin on) only loopback `Host` names are served, so a web page
 *   on a DNS-rebinding domain that resolves to 127.0.0.1 cannot talk to the server.
 */
export function registerRequestGuards(app: FastifyInstance, config: Config) {
  const devMode = config.devLoginDisabledReason === null;
  app.addHook("onRequest", async (req: FastifyRequest, reply: FastifyReply) => {
    if (devMode) {
      const name = hostNameOf(req.headers.host);
      if (name === null || !isLoopbackHost(name))
        return refuse(
          reply,
          `this local development server answers only to loopback host names (localhost, 127.0.0.1, [::1]), not ${JSON.stringify(req.headers.host ?? "")}: DNS-rebinding protection`,
        );
    }
    const upgrade = req.headers.upgrade;
    if (typeof upgrade === "string" && upgrade.toLowerCase() === "websocket" && !websocketOriginAllowed(config, req.headers.origin))
      return refuse(reply, `WebSocket connections from origin ${req.headers.origin} are not allowed (see CORS_ORIGINS)`);
  });
}
