/**
 * Where a device keeps its secrets: its private keys and the fingerprints it pinned. Values are
 * strings, so the same interface fits a file, a browser's storage, or an editor's secret storage.
 *
 * Adapter for VS Code (its SecretStorage is backed by the OS keychain):
 *
 *   const store: KeyStore = {
 *     get: (name) => context.secrets.get(name),
 *     set: (name, value) => context.secrets.store(name, value),
 *     delete: (name) => context.secrets.delete(name),
 *   };
 *
 * Any object with these three methods works the same way (a keychain library, an encrypted
 * blob in IndexedDB). The file store for Node lives in `@osmynt/sdk/crypto/file-key-store`,
 * apart from this browser-safe entry.
 */
export interface KeyStore {
  /** The value stored under `name`, or undefined. */
  get(name: string): Promise<string | undefined> | string | undefined;
  set(name: string, value: string): Promise<void> | void;
  delete(name: string): Promise<void> | void;
}

/** Keeps values in memory, for one process: tests, short-lived tools, or keys that must not outlive it. */
export function memoryKeyStore(initial: Record<string, string> = {}): KeyStore & { names(): string[] } {
  const values = new Map(Object.entries(initial));
  return {
    get: (name) => values.get(name),
    set: (name, value) => {
      values.set(name, value);
    },
    delete: (name) => {
      values.delete(name);
    },
    names: () => [...values.keys()],
  };
}
