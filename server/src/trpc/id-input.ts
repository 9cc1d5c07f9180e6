import { type IdKind, idPattern, idPrefixes } from "@osmynt/db";
import { z } from "zod";

const kindNames: Partial<Record<IdKind, string>> = { recoveryKey: "recovery key" };

/**
 * An id of `kind` (or of one of `kinds`) as a procedure input: trimmed, at most 64 characters,
 * prefix and alphabet checked, so another kind's id (a team id given as a share id) is refused at
 * the edge with a message naming the field and the expected form, and never reaches a query.
 */
export function idInput(kind: IdKind | readonly IdKind[], what: string) {
  const kinds = typeof kind === "string" ? [kind] : kind;
  const expected = kinds.map((k) => `${kindNames[k] ?? k} id (${idPrefixes[k]}_…)`).join(" or ");
  return z
    .string()
    .trim()
    .min(1, `${what} is required`)
    .max(64, `${what} is too long`)
    .regex(idPattern(kinds), `${what} is not a ${expected}`);
}

/** A device of the device log: a device (`dev_…`) or the user's recovery key (`rec_…`). */
export const deviceIdInput = (what: string) => idInput(["device", "recoveryKey"], what);
