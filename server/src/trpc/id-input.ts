import { type IdKind, idPattern, idPrefixes } from "@osmynt/db";
import { z } from "zod";

/** An id of `kind` as a procedure input: trimmed, at most 64 characters, prefix and alphabet checked. */
export function idInput(kind: IdKind, what: string) {
  return z
    .string()
    .trim()
    .min(1, `${what} is required`)
    .max(64, `${what} is too long`)
    .regex(idPattern(kind), `${what} is not a ${kind} id (${idPrefixes[kind]}_…)`);
}
