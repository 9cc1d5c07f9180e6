import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import envPaths from "env-paths";

/**
 * Where the CLI keeps its files: `$OSMYNT_CONFIG_DIR`, else the platform's config folder
 * (`$XDG_CONFIG_HOME/osmynt`, by default `~/.config/osmynt`, on Linux). The folder is the user's
 * alone (0700) and so is every file in it (0600): it holds the session and this device's private keys.
 */
export interface ConfigPaths {
  dir: string;
  /** `{ server }`: the server signed in to last. */
  config: string;
  session: string;
  /** This device's private keys and the fingerprints it pinned (a KeyStore file). */
  keys: string;
  /** `watch`'s last event id per server and user, to resume where it stopped. */
  cursors: string;
}

export function configPaths(env: NodeJS.ProcessEnv = process.env): ConfigPaths {
  const dir = path.resolve(env.OSMYNT_CONFIG_DIR || envPaths("osmynt", { suffix: "" }).config);
  return {
    dir,
    config: path.join(dir, "config.json"),
    session: path.join(dir, "session.json"),
    keys: path.join(dir, "keys.json"),
    cursors: path.join(dir, "cursors.json"),
  };
}

/** Creates the folder owner-only, and takes back group and other access from one that exists. */
export async function ensureConfigDir(paths: ConfigPaths): Promise<void> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await chmod(paths.dir, 0o700);
}

export async function readJson<T extends object>(file: string): Promise<Partial<T>> {
  try {
    const parsed: unknown = JSON.parse(await readFile(file, "utf8"));
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Partial<T>) : {};
  } catch {
    return {};
  }
}

/** Writes a JSON file 0600 through a temporary file renamed into place (never half a file). */
export async function writeJson(paths: ConfigPaths, file: string, value: unknown): Promise<void> {
  await ensureConfigDir(paths);
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
}

/** A server URL as the CLI compares and stores it: origin and path, no trailing slash. */
export function normalizeServer(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`not a URL: ${url}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new TypeError(`the server URL must be http(s): ${url}`);
  return `${parsed.origin}${parsed.pathname}`.replace(/\/+$/, "");
}
