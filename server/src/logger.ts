import pino, { type DestinationStream, type Logger } from "pino";

/**
 * Secrets never reach the logs: headers that carry credentials and any field named like a token
 * or secret are censored wherever they appear (two levels deep is where request bodies and error
 * details put them).
 */
export const redactPaths = [
  "req.headers.authorization",
  "req.headers.cookie",
  'res.headers["set-cookie"]',
  "*.token",
  "*.accessToken",
  "*.refreshToken",
  "*.githubToken",
  "*.secret",
  "*.password",
  "*.*.token",
  "*.*.accessToken",
  "*.*.refreshToken",
  "*.*.githubToken",
  "*.*.secret",
];

export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      redact: { paths: redactPaths, censor: "[redacted]" },
      base: { service: "osmynt" },
      serializers: {
        // Query strings can carry procedure input; log the path only.
        req: (req: { method?: string; url?: string; ip?: string }) => ({
          method: req.method,
          path: req.url?.split("?")[0],
          ip: req.ip,
        }),
        err: pino.stdSerializers.err,
      },
    },
    options.destination,
  );
}
