/**
 * The server's router type, rebuilt from the generated plain-data description with nothing but
 * public `@trpc/server` types, so `createTRPCClient<AppRouter>` is exactly typed in projects that
 * have neither the server's source nor its dependencies.
 */
import type {
  inferRouterInputs,
  inferRouterOutputs,
  TRPCBuiltRouter,
  TRPCDefaultErrorData,
  TRPCDefaultErrorShape,
  TRPCMutationProcedure,
  TRPCQueryProcedure,
  TRPCSubscriptionProcedure,
} from "@trpc/server";
import type { RouterProcedures } from "./generated/router-types.js";

export type { RouterProcedures } from "./generated/router-types.js";

/** One zod issue, as the server sends it for invalid input. */
export interface InputIssue {
  code: string;
  path: (string | number)[];
  message: string;
  [key: string]: unknown;
}

/** `error.data` of every failed call: tRPC's fields plus what the server's error formatter adds. */
export interface OsmyntErrorData extends TRPCDefaultErrorData {
  /** On invalid input (BAD_REQUEST): what was wrong, field by field. Absent otherwise. */
  zodError?: InputIssue[];
  /** On domain errors: their safe details (for example the device ids a share missed), or null. */
  details?: Record<string, unknown> | null;
}

export interface OsmyntErrorShape extends TRPCDefaultErrorShape {
  data: OsmyntErrorData;
}

/** A `tracked()` event as it reaches the client: `id` is what to resume from as `lastEventId`. */
export interface TrackedEvent<TData> {
  id: string;
  data: TData;
}

/** Every procedure path, such as `"auth.me"`. */
export type ProcedurePath = keyof RouterProcedures;

type Root = { ctx: object; meta: object; errorShape: OsmyntErrorShape; transformer: false };

type Def<TInput, TOutput> = { input: TInput; output: TOutput; meta: object; errorShape: OsmyntErrorShape };

type ToProcedure<D> = D extends { kind: "query"; input: infer I; output: infer O }
  ? TRPCQueryProcedure<Def<I, O>>
  : D extends { kind: "mutation"; input: infer I; output: infer O }
    ? TRPCMutationProcedure<Def<I, O>>
    : D extends { kind: "subscription"; input: infer I; output: infer O; tracked: infer T }
      ? TRPCSubscriptionProcedure<Def<I, AsyncIterable<T extends true ? TrackedEvent<O> : O, void, any>>>
      : never;

type Head<P extends string> = P extends `${infer H}.${string}` ? H : P;
type Below<F, H extends string> = { [P in keyof F & string as P extends `${H}.${infer Rest}` ? Rest : never]: F[P] };

/** Turns `{ "a.b.c": D }` into `{ a: { b: { c: Procedure<D> } } }`, tRPC's router record. */
type RecordOf<F> = { [H in Head<keyof F & string>]: H extends keyof F ? ToProcedure<F[H]> : RecordOf<Below<F, H>> };

/** The server's `AppRouter`, for `createTRPCClient<AppRouter>` and tRPC's inference helpers. */
export type AppRouter = TRPCBuiltRouter<Root, RecordOf<RouterProcedures>>;

/**
 * What each procedure takes, by path: `RouterInputs["auth"]["devLogin"]`.
 * @example type Login = RouterInputs["auth"]["devLogin"]["login"];
 */
export type RouterInputs = inferRouterInputs<AppRouter>;

/**
 * What each procedure answers, by path: `RouterOutputs["auth"]["me"]`.
 * @example type Me = RouterOutputs["auth"]["me"];
 */
export type RouterOutputs = inferRouterOutputs<AppRouter>;

/** A signed-in session: short-lived access token, rotating refresh token and the user. */
export type Session = RouterProcedures["auth.devLogin"]["output"];

/** The signed-in user as they see themselves. */
export type SelfUser = RouterProcedures["auth.me"]["output"];
