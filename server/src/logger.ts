import pino, { type DestinationStream, type Logger } from "pino";

const CENSOR = "[redacted]";

/** Field names that carry credentials wherever they appear: `githubToken`, `refresh_token`, `clientSecret`, `Cookie`… */
const SECRET_KEY = /token|secret|passw|authori[sz]ation|cookie|credential|api_?key|private_?key|sealed/i;
/** OAuth codes and states, and the sign-in user code: secrets when they hold a string value. */
const CODE_KEY = /^(code|state|user_?code|oauth_?code|oauth_?state|auth_?code)$/i;
/** `code` fields also carry error codes (`NOT_FOUND`, `ECONNRESET`): those constants stay readable. */
const ERROR_CODE = /^[A-Z][A-Z0-9_]*$/;

function censored(key: string, value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (SECRET_KEY.test(key)) return true;
  return CODE_KEY.test(key) && typeof value === "string" && !ERROR_CODE.test(value);
}

/** A copy of `value` with every secret-shaped field censored, at any depth. */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 32 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) out[key] = censored(key, field) ? CENSOR : redactSecrets(field, depth + 1);
  return out;
}

/**
 * Every finished log line (after serializers, with the child bindings) passes here: secrets are
 * recognised by the shape of their field name at any depth, not by a list of known paths, so a
 * new `log.info({ githubToken })` cannot leak. A line that is not JSON passes unchanged.
 */
function redactLine(line: string): string {
  if (!SECRET_KEY.test(line) && !/"(code|state|user_?code|oauth_?code|oauth_?state|auth_?code)"/i.test(line)) return line;
  try {
    return `${JSON.stringify(redactSecrets(JSON.parse(line)))}\n`;
  } catch {
    return line;
  }
}

export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      hooks: { streamWrite: redactLine },
      base: { service: "osmynt" },
      serializers: {
        // Query strings can carry procedure input; log the path only, and never an invite's token.
        req: (req: { method?: string; url?: string; ip?: string }) => ({
          method: req.method,
          path: req.url?.split("?")[0]?.replace(/^\/invite\/[^/]*/, "/invite/[redacted]"),
          ip: req.ip,
        }),
        err: pino.stdSerializers.err,
      },
    },
    options.destination,
  );
}
