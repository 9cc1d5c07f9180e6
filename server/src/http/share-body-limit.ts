import type { FastifyInstance } from "fastify";
import type { Config } from "../env.js";

/** The procedures whose body carries a share (its ciphertext): they alone get the larger limit. */
const SHARE_UPLOADS = new Set(["shares.create", "shares.addRecipients"]);

class BodyTooLarge extends Error {
  readonly statusCode = 413;
}

/**
 * A share of up to SHARE_MAX_CIPHERTEXT_BYTES travels base64url-encoded, so it needs a bigger body
 * than BODY_LIMIT_BYTES allows everything else. The tRPC routes get the larger limit from Fastify
 * (which stops any body, chunked ones too, at it); every other procedure is held to
 * BODY_LIMIT_BYTES here by its declared length, before the body is read.
 */
export function registerShareBodyLimit(scope: FastifyInstance, config: Config): void {
  const large = Math.max(config.bodyLimit, config.shares.maxBodyBytes);
  scope.addHook("onRoute", (route) => {
    route.bodyLimit = large;
  });
  scope.addHook("preParsing", async (req, _reply, payload) => {
    const path = req.url.split("?")[0]?.split("/").pop() ?? "";
    if (!SHARE_UPLOADS.has(path) && Number(req.headers["content-length"] ?? 0) > config.bodyLimit)
      throw new BodyTooLarge(`Request body is larger than the limit of ${config.bodyLimit} bytes`);
    return payload;
  });
}
