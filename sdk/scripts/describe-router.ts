import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import type { ProcedureDescription } from "./render-router-types.js";
import { TypePrinter } from "./type-printer.js";

export const sdkDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// A file that exists only in memory: it asks the checker for what a tRPC client sees of each procedure.
const probeFile = path.join(sdkDir, "scripts/__router-probe__.ts");

// The server's source by path, not as a package dependency: the server depends on this package
// (for @osmynt/sdk/crypto), and a dependency back would be a cycle. OSMYNT_ROUTER_MODULE points the
// generator at another module exporting `AppRouter` (for testing it).
const routerModule = process.env.OSMYNT_ROUTER_MODULE ?? "../../server/src/index.js";
const probeSource = `
import type { AppRouter } from ${JSON.stringify(routerModule)};
import type { AnyTRPCProcedure, inferTransformedProcedureOutput } from "@trpc/server";
import type { Serialize, TrackedData } from "@trpc/server/unstable-core-do-not-import";

type Entries<R, P extends string> = {
  [K in keyof R & string]: R[K] extends AnyTRPCProcedure ? { path: \`\${P}\${K}\`; procedure: R[K] } : Entries<R[K], \`\${P}\${K}.\`>;
}[keyof R & string];

type Yielded<Y> = Y extends TrackedData<infer D> ? { tracked: true; data: Serialize<D> } : { tracked: false; data: Serialize<Y> };

type Describe<P> = P extends AnyTRPCProcedure
  ? {
      kind: P["_def"]["type"];
      input: P["_def"]["$types"]["input"];
      output: P["_def"]["type"] extends "subscription"
        ? P["_def"]["$types"]["output"] extends AsyncIterable<infer Y, any, any> ? Yielded<Y> : never
        : inferTransformedProcedureOutput<AppRouter, P>;
    }
  : never;

export type Record_ = AppRouter["_def"]["record"];
export type Procedures = { [E in Entries<Record_, ""> as E["path"]]: Describe<E["procedure"]> };
`;

function createProgram(): ts.Program {
  const configPath = path.join(sdkDir, "tsconfig.json");
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: reportAndExit });
  if (!parsed) throw new Error(`cannot read ${configPath}`);
  const host = ts.createCompilerHost(parsed.options, true);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (file) => file === probeFile || fileExists.call(host, file);
  host.readFile = (file) => (file === probeFile ? probeSource : readFile.call(host, file));
  host.getSourceFile = (file, language, ...rest) =>
    file === probeFile ? ts.createSourceFile(file, probeSource, language, true) : getSourceFile.call(host, file, language, ...rest);
  return ts.createProgram({ rootNames: [probeFile], options: parsed.options, host });
}

function reportAndExit(diagnostic: ts.Diagnostic): never {
  console.error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
  process.exit(2);
}

function exportedType(checker: ts.TypeChecker, probe: ts.SourceFile, name: string): ts.Type {
  const moduleSymbol = checker.getSymbolAtLocation(probe);
  const symbol = moduleSymbol && checker.getExportsOfModule(moduleSymbol).find((s) => s.getName() === name);
  if (!symbol) throw new Error(`probe does not export ${name}`);
  return checker.getDeclaredTypeOfSymbol(symbol);
}

/** The JSDoc written on a procedure in the server's router, found by walking the record type. */
function procedureDoc(checker: ts.TypeChecker, record: ts.Type, procedurePath: string): string {
  let type = record;
  let symbol: ts.Symbol | undefined;
  for (const segment of procedurePath.split(".")) {
    symbol = type.getProperty(segment);
    if (!symbol) return "";
    type = checker.getTypeOfSymbol(symbol);
  }
  if (!symbol) return "";
  const tags = symbol.getJsDocTags(checker).map((tag) => `@${tag.name} ${ts.displayPartsToString(tag.text)}`.trim());
  return [ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim(), ...tags].filter(Boolean).join("\n");
}

/**
 * Asks the type checker what a tRPC client sees of every procedure of the server's AppRouter and
 * prints each input and output as self-contained text.
 */
export function describeRouter(): { procedures: ProcedureDescription[]; aliases: TypePrinter["aliases"] } {
  const program = createProgram();
  const probe = program.getSourceFile(probeFile);
  if (!probe) throw new Error("probe file was not loaded");
  const problems = ts.getPreEmitDiagnostics(program, probe);
  if (problems.length > 0) {
    const host = { getCanonicalFileName: (f: string) => f, getCurrentDirectory: () => sdkDir, getNewLine: () => "\n" };
    throw new Error(`the server's router does not type-check from the SDK:\n${ts.formatDiagnostics(problems, host)}`);
  }
  const checker = program.getTypeChecker();
  const record = exportedType(checker, probe, "Record_");
  const printer = new TypePrinter(checker);
  const field = (type: ts.Type, name: string) => {
    const symbol = type.getProperty(name);
    if (!symbol) throw new Error(`missing ${name} in ${checker.typeToString(type)}`);
    return checker.getTypeOfSymbol(symbol);
  };
  const procedures = checker.getPropertiesOfType(exportedType(checker, probe, "Procedures")).map((entry): ProcedureDescription => {
    const where = entry.getName();
    const described = checker.getTypeOfSymbol(entry);
    const kind = field(described, "kind");
    if (!kind.isStringLiteral()) throw new Error(`${where}: cannot tell whether it is a query, mutation or subscription`);
    const base = {
      path: where,
      kind: kind.value as ProcedureDescription["kind"],
      doc: procedureDoc(checker, record, where),
      input: printer.print(field(described, "input"), `${where} input`, "    "),
    };
    const output = field(described, "output");
    if (base.kind !== "subscription") return { ...base, output: printer.print(output, `${where} output`, "    ") };
    if (output.flags & ts.TypeFlags.Never) throw new Error(`${where}: only async-generator subscriptions can be described`);
    const events = output.isUnion() ? output.types : [output];
    const tracked = events.map((event) => checker.typeToString(field(event, "tracked")) === "true");
    if (tracked.every(Boolean)) {
      return {
        ...base,
        output: events.map((event) => printer.print(field(event, "data"), `${where} event`, "    ")).join(" | "),
        tracked: true,
      };
    }
    // Some events are tracked and some are not: describe what arrives, envelopes included.
    const arriving = events.map((event, i) =>
      tracked[i]
        ? `{\n      id: string;\n      data: ${printer.print(field(event, "data"), `${where} event`, "      ")};\n    }`
        : printer.print(field(event, "data"), `${where} event`, "    "),
    );
    return { ...base, output: arriving.join(" | "), tracked: false };
  });
  procedures.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { procedures, aliases: printer.aliases };
}
