import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { KeyStore } from "./key-store.js";

/**
 * A KeyStore in one JSON file readable by its owner only (0600, in a 0700 folder it creates), for
 * Node: CLIs and tests. Node-only, so it is its own entry (`@osmynt/sdk/crypto/file-key-store`)
 * that the browser-safe `@osmynt/sdk/crypto` does not import. Writes go to a temporary file that
 * is renamed into place (a crash never leaves half a key) and run one at a time.
 */
export function fileKeyStore(file: string): KeyStore {
  const target = path.resolve(file);
  let queue: Promise<unknown> = Promise.resolve();

  async function read(): Promise<Record<string, string>> {
    let text: string;
    try {
      text = await readFile(target, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
      throw error;
    }
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== "string"))
      throw new Error(`${target} is not a key store (an object of strings)`);
    return parsed as Record<string, string>;
  }

  async function write(values: Record<string, string>): Promise<void> {
    const folder = path.dirname(target);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const temporary = `${target}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temporary, `${JSON.stringify(values, null, 2)}\n`, { mode: 0o600 });
    // writeFile's mode passes through the umask; set it exactly, whatever the umask is.
    await chmod(temporary, 0o600);
    await rename(temporary, target);
  }

  function update(change: (values: Record<string, string>) => void): Promise<void> {
    const run = queue.then(async () => {
      const values = await read();
      change(values);
      await write(values);
    });
    queue = run.catch(() => undefined);
    return run;
  }

  return {
    get: async (name) => {
      await queue;
      return (await read())[name];
    },
    set: (name, value) =>
      update((values) => {
        values[name] = value;
      }),
    delete: (name) =>
      update((values) => {
        delete values[name];
      }),
  };
}
