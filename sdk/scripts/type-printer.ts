import ts from "typescript";

/**
 * Prints a resolved type as self-contained TypeScript: every object, array, tuple and union is
 * expanded structurally, so the text names no declaration of the program it came from. Only
 * JSON-like shapes are accepted; anything a client could not receive over plain JSON (functions,
 * unique symbols, unresolved generics) is refused with the path where it was found, because a
 * silent `any` there would defeat the point of generating types at all.
 */
export class TypePrinter {
  /** Definitions of self-referencing types, which cannot be expanded inline. */
  readonly aliases = new Map<ts.Type, { name: string; text: string | null }>();
  private readonly expanding = new Set<ts.Type>();
  private readonly usedNames = new Set<string>();

  constructor(private readonly checker: ts.TypeChecker) {}

  print(type: ts.Type, where: string, indent = ""): string {
    const f = type.flags;
    if (f & ts.TypeFlags.Any) return "any";
    if (f & ts.TypeFlags.Unknown) return "unknown";
    if (f & ts.TypeFlags.Never) return "never";
    if (f & ts.TypeFlags.Void) return "void";
    if (f & ts.TypeFlags.Undefined) return "undefined";
    if (f & ts.TypeFlags.Null) return "null";
    if (f & ts.TypeFlags.String) return "string";
    if (f & ts.TypeFlags.Number) return "number";
    if (f & ts.TypeFlags.BigInt) return "bigint";
    if (f & ts.TypeFlags.NonPrimitive) return "object";
    if (f & ts.TypeFlags.BooleanLiteral) return this.checker.typeToString(type);
    if (type.isStringLiteral()) return JSON.stringify(type.value);
    if (type.isNumberLiteral()) return String(type.value);
    if (f & ts.TypeFlags.BigIntLiteral) {
      const { negative, base10Value } = (type as ts.BigIntLiteralType).value;
      return `${negative ? "-" : ""}${base10Value}n`;
    }
    if (f & (ts.TypeFlags.TemplateLiteral | ts.TypeFlags.StringMapping)) return this.checker.typeToString(type);
    if (type.isUnion()) return this.printUnion(type, where, indent);
    if (type.isIntersection()) return type.types.map((t) => this.wrap(t, where, indent)).join(" & ");
    if (f & ts.TypeFlags.Object) return this.printObject(type as ts.ObjectType, where, indent);
    throw new Error(`${where}: cannot describe the type \`${this.checker.typeToString(type)}\` as plain data`);
  }

  /** Unions and intersections inside arrays and intersections need parentheses. */
  private wrap(type: ts.Type, where: string, indent: string): string {
    const text = this.print(type, where, indent);
    return type.isUnion() && !(type.flags & ts.TypeFlags.Boolean) ? `(${text})` : text;
  }

  private printUnion(type: ts.UnionType, where: string, indent: string): string {
    const members = type.types;
    const isBool = (t: ts.Type, name: string) => !!(t.flags & ts.TypeFlags.BooleanLiteral) && this.checker.typeToString(t) === name;
    const hasBoolean = members.some((t) => isBool(t, "true")) && members.some((t) => isBool(t, "false"));
    const parts: string[] = [];
    const tail: string[] = [];
    for (const member of members) {
      if (hasBoolean && member.flags & ts.TypeFlags.BooleanLiteral) {
        if (isBool(member, "false")) parts.push("boolean");
        continue;
      }
      const text = member.isIntersection() ? `(${this.print(member, where, indent)})` : this.print(member, where, indent);
      (member.flags & (ts.TypeFlags.Null | ts.TypeFlags.Undefined) ? tail : parts).push(text);
    }
    // The checker orders union members by when it first met each type, which shifts with unrelated
    // edits anywhere in the server; a sorted order keeps the generated file (and --check) stable.
    return [...parts.sort(), ...tail.sort()].join(" | ");
  }

  private printObject(type: ts.ObjectType, where: string, indent: string): string {
    const known = this.aliases.get(type);
    if (known) return known.name;
    if (this.expanding.has(type)) return this.aliasFor(type).name;
    if (type.getSymbol()?.getName() === "Date") {
      throw new Error(`${where}: a Date does not survive plain JSON (the API has no transformer); use an ISO string`);
    }
    if (type.getCallSignatures().length > 0 || type.getConstructSignatures().length > 0) {
      throw new Error(`${where}: functions and classes cannot cross the wire (\`${this.checker.typeToString(type)}\`)`);
    }
    if (this.expanding.size > 64) throw new Error(`${where}: the type nests too deeply to expand (an ever-growing generic?)`);
    this.expanding.add(type);
    try {
      const text = this.printStructure(type, where, indent);
      const alias = this.aliases.get(type);
      if (!alias) return text;
      alias.text = this.printStructure(type, where, "");
      return alias.name;
    } finally {
      this.expanding.delete(type);
    }
  }

  private printStructure(type: ts.ObjectType, where: string, indent: string): string {
    if (this.checker.isArrayType(type)) {
      const [element] = this.checker.getTypeArguments(type as ts.TypeReference);
      if (!element) throw new Error(`${where}: array without an element type`);
      const readonly = type.getSymbol()?.getName() === "ReadonlyArray" ? "readonly " : "";
      return `${readonly}${this.wrap(element, `${where}[]`, indent)}[]`;
    }
    if (this.checker.isTupleType(type)) return this.printTuple(type as ts.TypeReference, where, indent);

    const inner = `${indent}  `;
    const lines: string[] = [];
    for (const info of this.checker.getIndexInfosOfType(type)) {
      const key = this.print(info.keyType, `${where}[key]`, inner);
      const readonly = info.isReadonly ? "readonly " : "";
      lines.push(`${inner}${readonly}[key: ${key}]: ${this.print(info.type, `${where}[${key}]`, inner)};`);
    }
    for (const property of sortedProperties(this.checker.getPropertiesOfType(type))) {
      const name = property.getName();
      if (name.startsWith("__@")) throw new Error(`${where}: symbol-keyed property ${name} cannot cross the wire`);
      const optional = property.flags & ts.SymbolFlags.Optional ? "?" : "";
      const value = this.print(this.checker.getTypeOfSymbol(property), `${where}.${name}`, inner);
      lines.push(`${inner}${propertyKey(name)}${optional}: ${value};`);
    }
    return lines.length === 0 ? "{}" : `{\n${lines.join("\n")}\n${indent}}`;
  }

  private printTuple(type: ts.TypeReference, where: string, indent: string): string {
    const target = type.target as ts.TupleType;
    const elements = this.checker.getTypeArguments(type).map((element, i) => {
      const flags = target.elementFlags[i] ?? ts.ElementFlags.Required;
      const text = this.wrap(element, `${where}[${i}]`, indent);
      if (flags & ts.ElementFlags.Optional) return `${text}?`;
      if (flags & ts.ElementFlags.Rest) return `...${text}[]`;
      if (flags & ts.ElementFlags.Variadic) return `...${text}`;
      return text;
    });
    return `${target.readonly ? "readonly " : ""}[${elements.join(", ")}]`;
  }

  /** Names a self-referencing type after its declaration in the API's own code, else `RecursiveN`. */
  private aliasFor(type: ts.Type) {
    const symbol = type.aliasSymbol ?? type.getSymbol();
    const declaredInApi = symbol?.declarations?.some((d) => !d.getSourceFile().isDeclarationFile) ?? false;
    const hint = declaredInApi ? (symbol?.getName() ?? "") : "";
    const root = /^[A-Z][A-Za-z0-9]*$/.test(hint) ? hint : "Recursive";
    let name = root === "Recursive" ? "Recursive1" : root;
    for (let n = 2; this.usedNames.has(name); n++) name = `${root}${n}`;
    this.usedNames.add(name);
    const alias = { name, text: null as string | null };
    this.aliases.set(type, alias);
    return alias;
  }
}

/**
 * Properties in the order they are written in the source (mapped types such as zod's and tRPC's
 * keep links to the original declarations); the checker's own order depends on type ids.
 */
function sortedProperties(properties: ts.Symbol[]): ts.Symbol[] {
  const place = (p: ts.Symbol) => {
    const declaration = p.declarations?.[0];
    return declaration ? `${declaration.getSourceFile().fileName}:${String(declaration.getStart()).padStart(9, "0")}` : `~${p.getName()}`;
  };
  return properties
    .map((p) => ({ p, key: place(p) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ p }) => p);
}

export function propertyKey(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name);
}
