import { assertLogExtends, DeviceLogError, type DeviceLogHead, type DeviceLogState, type KeyStore } from "../crypto/index.js";

/**
 * What this device remembers about a user's identity (TOFU, crypto.md §4): the fingerprint seen
 * first and the furthest head of their log seen since. A later log must extend it; `verified`
 * says the user compared safety numbers out of band (`verifyUser`).
 */
export interface Pin {
  v: 1;
  userId: string;
  fingerprint: string;
  head: DeviceLogHead;
  verified: boolean;
  pinnedAt: number;
}

export const PIN_PREFIX = "osmynt.pin.";

export async function readPin(store: KeyStore, userId: string): Promise<Pin | null> {
  const text = await store.get(PIN_PREFIX + userId);
  if (text === undefined) return null;
  const pin = JSON.parse(text) as Pin;
  if (pin?.v !== 1 || pin.userId !== userId || typeof pin.fingerprint !== "string")
    throw new DeviceLogError("fingerprint_changed", `the pin of user ${userId} in the key store is corrupt; refusing to trust their keys`, {
      userId,
    });
  return pin;
}

export async function writePin(store: KeyStore, pin: Pin): Promise<void> {
  await store.set(PIN_PREFIX + pin.userId, JSON.stringify(pin));
}

/**
 * Checks a verified log against what was pinned for its user and moves the pin forward: the first
 * sight pins the fingerprint; afterwards a new root (`fingerprint_changed`), a shorter log
 * (`rolled_back`: a hidden revocation) or another history (`forked`) is a hard error naming the
 * user, and the pin stays as it was.
 */
export async function checkPin(store: KeyStore, state: DeviceLogState): Promise<Pin> {
  const pin = await readPin(store, state.userId);
  if (!pin) {
    const first: Pin = {
      v: 1,
      userId: state.userId,
      fingerprint: state.fingerprint,
      head: state.head,
      verified: false,
      pinnedAt: Date.now(),
    };
    await writePin(store, first);
    return first;
  }
  assertLogExtends(pin, state);
  if (state.head.seq === pin.head.seq) return pin;
  const moved = { ...pin, head: state.head };
  await writePin(store, moved);
  return moved;
}
