import type { AnyProcedure, AnyRouter } from "@trpc/server";
import { z } from "zod";
import type { ProcedureMeta } from "../trpc/init.js";

/** Where the REST view of the procedures lives; the version changes only with a breaking change. */
export const REST_PREFIX = "/api/v1";

/** One query or mutation as a REST operation. */
export interface RestOperation {
  /** The tRPC path, e.g. `teams.invites.create`. */
  procedurePath: string;
  type: "query" | "mutation";
  /** Queries are GET (input as query parameters), mutations POST (input as the JSON body). */
  method: "GET" | "POST";
  /** `/api/v1/teams/invites/create`: the tRPC path with dots as slashes, so nobody has to map it. */
  url: string;
  /** The procedure's input parsers as one schema (or none), for the document and query decoding. */
  input: z.ZodType | undefined;
  output: z.ZodType | undefined;
  auth: boolean;
  meta: ProcedureMeta;
}

export interface RestOperations {
  operations: RestOperation[];
  /**
   * What keeps a procedure from being documented well on REST, in words for its author.
   * Empty on a healthy router; a test fails otherwise, so a new procedure cannot be forgotten.
   */
  problems: string[];
}

function isZodType(value: unknown): value is z.ZodType {
  return value instanceof z.ZodType;
}

function asObject(parser: unknown): z.ZodObject | undefined {
  const inner = parser instanceof z.ZodOptional ? parser.unwrap() : parser;
  return inner instanceof z.ZodObject ? inner : undefined;
}

/**
 * The procedure's input as one schema. tRPC merges several `.input()` objects at run time (a team
 * procedure's `teamId` and its own fields), and the document needs the same merge. A query's input
 * must be an object, since its fields become query parameters; a mutation's body may be any JSON.
 */
function inputSchema(path: string, type: "query" | "mutation", inputs: unknown[], problems: string[]): z.ZodType | undefined {
  if (inputs.length === 0) return undefined;
  const [only] = inputs;
  if (inputs.length === 1 && type === "mutation" && only instanceof z.ZodType) return only;
  const shape: z.ZodRawShape = {};
  for (const parser of inputs) {
    const object = asObject(parser);
    if (!object) {
      problems.push(
        type === "query"
          ? `${path}: a query's input must be a zod object, whose fields become the GET query parameters`
          : `${path}: several .input() parsers that are not all zod objects cannot be merged into one JSON body`,
      );
      return undefined;
    }
    Object.assign(shape, object.shape);
  }
  return z.object(shape);
}

/**
 * Every query and mutation of the router as a REST operation, derived from the procedure paths:
 * adding a procedure adds its REST operation, with nothing to register by hand. Subscriptions stay
 * on WebSocket/SSE.
 */
export function restOperations(router: AnyRouter): RestOperations {
  const problems: string[] = [];
  const operations: RestOperation[] = [];
  const procedures = router._def.procedures as Record<string, AnyProcedure>;
  for (const [procedurePath, procedure] of Object.entries(procedures).sort(([a], [b]) => a.localeCompare(b))) {
    const type = procedure._def.type;
    if (type === "subscription") continue;
    const meta = (procedure._def.meta ?? {}) as ProcedureMeta;
    const output = (procedure._def as { output?: unknown }).output;
    if (!isZodType(output)) {
      problems.push(`${procedurePath}: has no zod .output() schema, so REST clients cannot know what it returns; add one`);
    }
    operations.push({
      procedurePath,
      type,
      method: type === "query" ? "GET" : "POST",
      url: `${REST_PREFIX}/${procedurePath.split(".").join("/")}`,
      input: inputSchema(procedurePath, type, procedure._def.inputs, problems),
      output: isZodType(output) ? output : undefined,
      auth: meta.auth === "required",
      meta,
    });
  }
  return { operations, problems };
}

type FieldKind = "string" | "number" | "boolean" | "json";

function kindOf(schema: unknown): FieldKind {
  if (!schema || typeof schema !== "object") return "string";
  const s = schema as { type?: string | string[]; anyOf?: unknown[]; oneOf?: unknown[] };
  const types = new Set<string>([s.type ?? []].flat());
  for (const alt of [...(s.anyOf ?? []), ...(s.oneOf ?? [])]) {
    const t = (alt as { type?: string | string[] }).type;
    for (const one of [t ?? []].flat()) types.add(one);
  }
  types.delete("null");
  if (types.has("string") || types.size === 0) return "string";
  if (types.has("object") || types.has("array")) return "json";
  if (types.has("boolean")) return "boolean";
  return "number";
}

/**
 * Turns query-string values into what a query's input expects: numbers and booleans from their
 * text, objects and arrays from JSON; anything that does not convert is left as text, so the
 * procedure's own validation names the field. The schemas themselves are never changed.
 */
export function queryDecoder(input: z.ZodType | undefined): (query: Record<string, string | string[] | undefined>) => unknown {
  if (!input) return () => undefined;
  // Worked out on the first call: a JSON Schema of every GET input at start-up cost ~0.1 s of CPU.
  let kinds: Map<string, FieldKind> | undefined;
  const kindsOf = () => {
    const json = z.toJSONSchema(input, { io: "input", unrepresentable: "any" }) as { properties?: Record<string, unknown> };
    return new Map(Object.entries(json.properties ?? {}).map(([key, value]) => [key, kindOf(value)]));
  };
  const decode = (kind: FieldKind | undefined, text: string): unknown => {
    if (kind === "number" && text.trim() !== "" && Number.isFinite(Number(text))) return Number(text);
    if (kind === "boolean" && (text === "true" || text === "false")) return text === "true";
    if (kind === "json") {
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    }
    return text;
  };
  return (query) => {
    kinds ??= kindsOf();
    const result: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined) continue;
      const kind = kinds.get(key);
      result[key] = Array.isArray(value) ? value.map((v) => decode(kind, v)) : decode(kind, value);
    }
    return result;
  };
}
