import { z } from "zod";

// Characters no client input needs and that only ever hide or garble text: C0/C1 controls (NUL
// among them, which PostgreSQL cannot store in text) and lone UTF-16 surrogates (not encodable).
const CONTROL = /[\p{Cc}\p{Cs}]/u;
// Names people read are also refused invisible format characters: bidi overrides and isolates
// (U+202A–202E, U+2066–2069), zero-width spaces and joiners (U+200B–200D, U+2060), the BOM, soft
// hyphen, and line/paragraph separators. Zero-width joiners inside emoji sequences go with them.
const INVISIBLE = /[\p{Cc}\p{Cs}\p{Cf}\p{Zl}\p{Zp}]/u;

const codePoint = (ch: string) => `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;

/** A refinement that names the first offending character, so the message says what is wrong. */
function refuse(pattern: RegExp, what: string, kinds: string) {
  return (value: string, ctx: z.core.$RefinementCtx<string>) => {
    const bad = value.match(pattern)?.[0];
    if (bad !== undefined) ctx.addIssue({ code: "custom", message: `${what} must not contain ${kinds} (found ${codePoint(bad)})` });
  };
}

/** Free text from a client (tokens, secrets): 1–`max` characters, no control characters. */
export function plainText(what: string, max: number) {
  return z
    .string()
    .min(1, `${what} is required`)
    .max(max, `${what} is too long (at most ${max} characters)`)
    .superRefine(refuse(CONTROL, what, "control characters"));
}

/**
 * A name shown to other people (a team name): trimmed, NFC-normalized so that visually equal names
 * are equal strings, 1–`max` characters, and nothing invisible that could make it read as
 * something else.
 */
export function displayName(what: string, max: number) {
  return z
    .string()
    .trim()
    .normalize("NFC")
    .min(1, `${what} must not be empty`)
    .max(max, `${what} is at most ${max} characters`)
    .superRefine(refuse(INVISIBLE, what, "control characters, bidirectional overrides or zero-width characters"));
}
