import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Session } from "./app-router.js";
import type { SessionStore } from "./memory-session-store.js";

// Node-only (node:fs): the browser entry imports memory-session-store.ts instead.
export { memorySessionStore, type SessionStore } from "./memory-session-store.js";

function isSession(value: unknown): value is Session {
  if (typeof value !== "object" || value === null) return false;
  const s = value as Record<string, unknown>;
  return (
    typeof s.accessToken === "string" &&
    typeof s.accessTokenExpiresAt === "string" &&
    typeof s.refreshToken === "string" &&
    typeof s.refreshTokenExpiresAt === "string" &&
    typeof s.user === "object" &&
    s.user !== null
  );
}

/**
 * Keeps the session in a JSON file readable by its owner only (0600, in a 0700 folder it
 * creates), as the CLI does. Writes go to a temporary file that is renamed into place, so a
 * crash never leaves half a session; a file that is not a session reads as signed out.
 */
export function fileSessionStore(file: string): SessionStore {
  const target = path.resolve(file);
  return {
    async get() {
      let text: string;
      try {
        text = await readFile(target, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw error;
      }
      try {
        const parsed: unknown = JSON.parse(text);
        return isSession(parsed) ? parsed : null;
      } catch {
        return null;
      }
    },
    async set(session) {
      if (session === null) {
        await rm(target, { force: true });
        return;
      }
      await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
      const temporary = `${target}.${process.pid}.${Date.now()}.tmp`;
      await writeFile(temporary, `${JSON.stringify(session, null, 2)}\n`, { mode: 0o600 });
      // writeFile's mode passes through the umask; set it exactly, whatever the umask is.
      await chmod(temporary, 0o600);
      await rename(temporary, target);
    },
  };
}
