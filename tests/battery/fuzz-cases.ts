import fc from "fast-check";
import { z } from "zod";

/**
 * The fuzz battery's inputs, generated with fast-check from two things each procedure already has:
 * its zod input (turned into JSON Schema, which says every field's type, bounds, pattern and enum)
 * and a valid input aimed at a real world (the table's `valid`). Every case is one of:
 * the whole input replaced by junk; one field of the valid input corrupted (wrong type, at and past
 * its bounds, control, bidi and zero-width characters, huge, deeply nested, removed); extra keys
 * (`__proto__`, `constructor`, `prototype` among them); and for mutations, bodies that are not JSON.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = Record<string, any>;

export interface FuzzCase {
  /** What was done, for the failure message. */
  label: string;
  input?: unknown;
  /** Raw input text (the body, or the `input` parameter), sent as is instead of `input`. */
  rawText?: string;
}

/** The procedure's input parsers as JSON Schema (a team procedure has two, merged by tRPC). */
export function inputSchemas(parsers: unknown[]): Schema[] {
  return parsers.map((p) => z.toJSONSchema(p as z.ZodType, { io: "input", unrepresentable: "any" }) as Schema);
}

/** Every schema that may describe the value at `path` (through properties, items and unions). */
function schemasAt(schemas: Schema[], path: (string | number)[]): Schema[] {
  let current = schemas.flatMap(branches);
  for (const key of path) {
    const next: Schema[] = [];
    for (const s of current) {
      if (typeof key === "number" && s.items) next.push(s.items);
      else if (typeof key === "string" && s.properties?.[key]) next.push(s.properties[key]);
      else if (typeof key === "string" && typeof s.additionalProperties === "object") next.push(s.additionalProperties);
    }
    current = next.flatMap(branches);
  }
  return current;
}

function branches(s: Schema): Schema[] {
  const alternatives = s.anyOf ?? s.oneOf;
  return alternatives ? (alternatives as Schema[]).flatMap(branches) : [s];
}

/** Paths to every value inside `value` (objects and arrays included), the root excluded. */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => [[...prefix, i], ...pathsOf(v, [...prefix, i])]);
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k])]);
  return [];
}

const clone = <T>(value: T): T => (value === undefined ? value : JSON.parse(JSON.stringify(value)));

/** `value` with the thing at `path` replaced (or removed, for `REMOVE`). */
const REMOVE = Symbol("remove");
function replaceAt(value: unknown, path: (string | number)[], replacement: unknown): unknown {
  const copy = clone(value) as any;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key];
  const last = path[path.length - 1] as string | number;
  if (replacement === REMOVE) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else if (last === "__proto__" || !Array.isArray(parent)) {
    Object.defineProperty(parent, last, { value: replacement, enumerable: true, writable: true, configurable: true });
  } else parent[last as number] = replacement;
  return copy;
}

// ---- the nasty parts ----

/** Characters that hide, reorder, end or garble text. */
const nastyChars = [
  "\u0000", // NUL: PostgreSQL text cannot hold it
  "\u0001",
  "\u0007",
  "\b",
  "\t",
  "\n",
  "\r",
  "\u001b",
  "\u007f",
  "\u0085",
  "\u009b",
  "\u200b", // zero-width space
  "\u200c",
  "\u200d",
  "\u2060",
  "\ufeff", // BOM
  "\u00ad", // soft hyphen
  "\u202a",
  "\u202e", // right-to-left override
  "\u2066",
  "\u2069",
  "\u2028",
  "\u2029",
  "\ud800", // lone surrogates
  "\udfff",
  "\ufffd",
  "\uffff",
  "\u{10ffff}",
  "\u{1f600}",
  "\u0301", // a combining mark alone
  "\u0130",
  "ß",
  "\u212a", // Kelvin sign: lower-cases to k
  "Ａ", // full-width A
  "'",
  '"',
  "\\",
  "%",
  "_",
  "%00",
  "/",
  "../",
  " ",
  "\u00a0",
];

/** Whole strings that have broken parsers, queries and templates elsewhere. */
const nastyStrings = [
  "",
  " ",
  "'; drop table users; --",
  "' or '1'='1",
  "\\x00",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template injection probe, on purpose
  "${7*7}",
  "{{7*7}}",
  "<script>alert(1)</script>",
  "NaN",
  "Infinity",
  "-1",
  "1e400",
  "0x10",
  "null",
  "undefined",
  "true",
  "[]",
  "{}",
  "__proto__",
  "constructor",
  "prototype",
  "hasOwnProperty",
  "toString",
  "\u202egnp.exe",
  "a\u0000b",
  "\u0000",
  "\ud83d",
  "e\u0301",
  "x".repeat(10_000),
];

const protoKeys = ["__proto__", "constructor", "prototype", "__defineGetter__", "hasOwnProperty", "toJSON", "then", "valueOf"];

/** A value whose own keys are the prototype-pollution classics (JSON.parse makes them own keys, as a server's parser does). */
const pollution = fc.constantFrom<Json>(
  JSON.parse('{"__proto__":{"isAdmin":true,"role":"owner","teamId":"tm_x"}}'),
  JSON.parse('{"constructor":{"prototype":{"isAdmin":true}}}'),
  JSON.parse('{"prototype":{"polluted":1},"__proto__":null}'),
  JSON.parse('{"__proto__":[]}'),
  JSON.parse('{"toJSON":"x","then":"y","valueOf":1}'),
);

/**
 * Nesting past what JSON.stringify can write (it recurses; JSON.parse does not): the value holds a
 * placeholder that `serialize` replaces with the nested text. For URLs (queries, subscriptions)
 * the depth stays within what a request line can carry.
 */
const deepMarker = (depth: number, kind: string) => `@@deep-${depth}-${kind}@@`;
function deepText(depth: number, kind: string): string {
  const open: string[] = [];
  const close: string[] = [];
  for (let i = 0; i < depth; i++) {
    const array = kind === "array" || (kind === "mixed" && i % 2 === 0);
    open.push(array ? "[" : '{"a":');
    close.push(array ? "]" : "}");
  }
  return `${open.join("")}1${close.reverse().join("")}`;
}
function deep(kind: "query" | "mutation" | "subscription"): fc.Arbitrary<Json> {
  const depths = kind === "mutation" ? [20, 200, 2_000, 10_000, 30_000] : [20, 200, 1_000];
  return fc
    .tuple(fc.constantFrom(...depths), fc.constantFrom("array", "object", "mixed"))
    .map(([depth, shape]) => deepMarker(depth, shape));
}

/** The JSON text of an input, deep placeholders expanded. */
export function serialize(input: unknown): string {
  return JSON.stringify(input).replace(/"@@deep-(\d+)-(\w+)@@"/g, (_m, depth: string, shape: string) => deepText(Number(depth), shape));
}

/** Strings that mix ordinary text with the nasty characters, anywhere in it. */
const nastyText = fc
  .tuple(fc.string({ unit: "grapheme", maxLength: 12 }), fc.array(fc.constantFrom(...nastyChars), { minLength: 1, maxLength: 4 }), fc.nat())
  .map(([text, chars, at]) => {
    const i = text.length === 0 ? 0 : at % (text.length + 1);
    return text.slice(0, i) + chars.join("") + text.slice(i);
  });

const anyString = fc.oneof(
  fc.constantFrom(...nastyStrings),
  nastyText,
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme-composite", maxLength: 40 }),
);

const extremeNumbers = [
  0,
  -0,
  -1,
  1,
  0.5,
  -0.5,
  1e-320,
  2 ** 31,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 32,
  2 ** 53,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  -Number.MAX_SAFE_INTEGER - 2,
  2 ** 63,
  -(2 ** 63),
  1e21,
  1e308,
  -1e308,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
];

const wrongType: fc.Arbitrary<Json> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.constantFrom(...extremeNumbers),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  anyString,
  fc.constant<Json>([]),
  fc.constant<Json>({}),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  pollution,
);

/** Huge strings: past every field's bound; for queries, kept to what a URL can carry. */
function huge(kind: "query" | "mutation" | "subscription"): fc.Arbitrary<Json> {
  const sizes = kind === "mutation" ? [1_000, 70_000, 200_000] : [1_000, 5_000];
  return fc
    .tuple(fc.constantFrom(...sizes), fc.constantFrom("A", "a", "\u0000", "\u202e", "\u{1f600}", "é", "0"))
    .map(([n, ch]) => ch.repeat(n));
}

// ---- bounds, from the JSON Schema of the field ----

/** A string with one nasty character put into a valid one (keeps its length near the bound). */
function spoil(valid: string): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom(...nastyChars), fc.nat(), fc.boolean()).map(([ch, at, replace]) => {
    const i = valid.length === 0 ? 0 : at % valid.length;
    return valid.slice(0, i) + ch + valid.slice(replace ? i + 1 : i);
  });
}

/** A string of exactly `n` characters, made from the valid one's characters so that only the length is off. */
function ofLength(valid: string, n: number): string {
  if (n <= 0) return "";
  const filler = valid.length > 0 ? valid : "A";
  let out = valid;
  const tail = filler.replace(/^[a-z]+_/, "") || "A";
  while (out.length < n) out += tail;
  return out.slice(0, n);
}

function boundaryStrings(schemas: Schema[], valid: unknown): Json[] {
  const base = typeof valid === "string" ? valid : "";
  const out: Json[] = [];
  for (const s of schemas) {
    if (s.type !== "string") continue;
    for (const n of [s.minLength, s.maxLength]) {
      if (typeof n !== "number") continue;
      for (const m of [n - 1, n, n + 1]) out.push(ofLength(base, m));
    }
    if (s.maxLength === undefined) out.push(ofLength(base, 100_000));
    for (const e of [...(s.enum ?? []), ...(s.const !== undefined ? [s.const] : [])]) {
      if (typeof e !== "string") continue;
      out.push(e.toUpperCase(), ` ${e}`, `${e}\u0000`, `${e}\u200b`, e.slice(0, -1), `${e}x`);
    }
  }
  if (out.length > 0) out.push("owner", "root");
  return out;
}

function boundaryNumbers(schemas: Schema[]): Json[] {
  const out: Json[] = [];
  for (const s of schemas) {
    if (s.type !== "number" && s.type !== "integer") continue;
    const bounds = [s.minimum, s.maximum, s.exclusiveMinimum, s.exclusiveMaximum].filter((b): b is number => typeof b === "number");
    for (const b of bounds) out.push(b - 1, b - 0.5, b, b + 0.5, b + 1);
    if (s.const !== undefined) out.push(s.const + 1, String(s.const));
    if (s.type === "integer") out.push(1.5, 0.1);
    out.push(...extremeNumbers, "1", "1e3", "");
  }
  return out;
}

function boundaryArrays(schemas: Schema[], valid: unknown): Json[] {
  const out: Json[] = [];
  const one = Array.isArray(valid) && valid.length > 0 ? (valid[0] as Json) : "x";
  for (const s of schemas) {
    if (s.type !== "array") continue;
    for (const n of [s.minItems, s.maxItems]) {
      if (typeof n !== "number") continue;
      for (const m of [n - 1, n, n + 1]) if (m >= 0) out.push(Array.from({ length: m }, () => one));
    }
    out.push([null], [[]], [one, one]);
  }
  return out;
}

/** A bad value for the field at `path`: what its schema's bounds call for, else anything wrong. */
function badValueFor(schemas: Schema[], valid: unknown, kind: "query" | "mutation" | "subscription"): fc.Arbitrary<unknown> {
  const bounded = [...boundaryStrings(schemas, valid), ...boundaryNumbers(schemas), ...boundaryArrays(schemas, valid)];
  const options: fc.WeightedArbitrary<unknown>[] = [
    { arbitrary: wrongType, weight: 4 },
    { arbitrary: fc.constant(REMOVE), weight: 1 },
    { arbitrary: deep(kind), weight: 1 },
    { arbitrary: huge(kind), weight: 1 },
  ];
  if (bounded.length > 0) options.push({ arbitrary: fc.constantFrom(...bounded), weight: 5 });
  if (typeof valid === "string") options.push({ arbitrary: spoil(valid), weight: 5 });
  return fc.oneof(...options);
}

/** `value` with extra keys on the root or on one nested object. */
function withExtraKeys(value: unknown): fc.Arbitrary<unknown> {
  const objectPaths = [[], ...pathsOf(value)].filter((p) => {
    let v: any = value;
    for (const k of p) v = v?.[k];
    return v && typeof v === "object" && !Array.isArray(v);
  });
  if (objectPaths.length === 0) return fc.constant(value);
  return fc
    .tuple(
      fc.constantFrom(...objectPaths),
      fc.array(fc.tuple(fc.oneof(fc.constantFrom(...protoKeys), fc.string({ maxLength: 8 })), wrongType), { minLength: 1, maxLength: 3 }),
    )
    .map(([path, extras]) => {
      let out = clone(value) as any;
      for (const [key, extra] of extras) out = replaceAt(out, [...path, key], extra);
      return out;
    });
}

const notJson = fc.constantFrom(
  "{",
  "}",
  '{"a":',
  "[1,2",
  "nul",
  "\u0000",
  "{\u0000}",
  '{"a":1}garbage',
  "'single'",
  '{"a":NaN}',
  '{"a":Infinity}',
  '{"a":1,"a":2}',
  "\ufeff{}",
  "%7B%7D",
  "",
);

/**
 * `count` cases for one procedure, reproducible from `seed`. `valid` is the valid input (or
 * undefined for a procedure without one); `schemas` its input's JSON Schemas.
 */
export function fuzzCases(options: {
  schemas: Schema[];
  valid: unknown;
  kind: "query" | "mutation" | "subscription";
  count: number;
  seed: number;
}): FuzzCase[] {
  const { schemas, valid, kind } = options;
  const paths = pathsOf(valid);
  const arbitraries: fc.WeightedArbitrary<FuzzCase>[] = [
    { arbitrary: wrongType.map((input) => ({ label: "whole input of a wrong type", input })), weight: 2 },
    { arbitrary: deep(kind).map((input) => ({ label: "whole input deeply nested", input })), weight: 1 },
    { arbitrary: pollution.map((input) => ({ label: "whole input with prototype keys", input })), weight: 1 },
    { arbitrary: huge(kind).map((input) => ({ label: "whole input a huge string", input })), weight: 1 },
  ];
  if (valid !== undefined && valid !== null && typeof valid === "object") {
    arbitraries.push({ arbitrary: withExtraKeys(valid).map((input) => ({ label: "valid input with extra keys", input })), weight: 2 });
  }
  if (paths.length > 0) {
    const corrupt = fc.constantFrom(...paths).chain((path) => {
      let at: unknown = valid;
      for (const k of path) at = (at as any)?.[k];
      return badValueFor(schemasAt(schemas, path), at, kind).map((bad) => ({
        label: `field ${path.join(".")} ${bad === REMOVE ? "removed" : "corrupted"}`,
        input: replaceAt(valid, path, bad),
      }));
    });
    arbitraries.push({ arbitrary: corrupt, weight: 12 });
    // two fields at once: refusals must not depend on which check runs first
    const key = (p: (string | number)[]) => `${p.join(".")}.`;
    const pairs = paths.flatMap((a) =>
      paths.filter((b) => !key(a).startsWith(key(b)) && !key(b).startsWith(key(a))).map((b) => [a, b] as const),
    );
    const twice = fc
      .tuple(
        fc.constantFrom(...(pairs.length > 0 ? pairs : [[paths[0] as (string | number)[], paths[0] as (string | number)[]] as const])),
        wrongType,
        wrongType,
      )
      .map(([[a, b], x, y]) => ({
        label: `fields ${a.join(".")} and ${b.join(".")} corrupted`,
        input: replaceAt(replaceAt(valid, a, x), b, y),
      }));
    if (pairs.length > 0) arbitraries.push({ arbitrary: twice, weight: 2 });
  }
  arbitraries.push({ arbitrary: notJson.map((rawText) => ({ label: "input text that is not JSON", rawText })), weight: 1 });
  const cases = fc.sample(fc.oneof(...arbitraries), { numRuns: options.count, seed: options.seed });
  // The valid input itself, and with its own keys reordered, always run too.
  return [{ label: "the valid input", input: valid }, ...cases];
}

/** The strings an input carries (an answer may quote them back: they are not the server's own words). */
export function stringsOf(value: unknown): string[] {
  const out: string[] = [];
  const stack = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === "string") out.push(v);
    else if (Array.isArray(v)) stack.push(...v);
    else if (v && typeof v === "object")
      for (const [k, inner] of Object.entries(v)) {
        out.push(k);
        stack.push(inner);
      }
  }
  return out;
}
