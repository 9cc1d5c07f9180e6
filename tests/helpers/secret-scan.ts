import { expect } from "vitest";

/** Shapes of every secret the engine hands out or receives: none may appear in a log line. */
const secretShapes = [
  { name: "access token (JWT)", pattern: /eyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,}/ },
  { name: "refresh token", pattern: /osr_[\w-]{20,}/ },
  { name: "invite token", pattern: /osi_[\w-]{20,}/ },
  { name: "GitHub token", pattern: /\b(gh[opusr]_[A-Za-z0-9]{20,}|github_pat_\w{20,})/ },
];

/**
 * Searches everything a server logged for secrets: by shape, and for each exact value a test saw
 * (tokens, OAuth codes and states). Fails with the offending line, so a leak is easy to find.
 */
export function expectNoSecretsInLogs(logs: string[], known: string[] = []) {
  expect(logs.length, "the server logged nothing at all: the scan would prove nothing").toBeGreaterThan(0);
  for (const line of logs) {
    for (const { name, pattern } of secretShapes) expect(pattern.test(line), `${name} in a log line: ${line}`).toBe(false);
    for (const secret of known) expect(line.includes(secret), `a known secret in a log line: ${line}`).toBe(false);
  }
}
