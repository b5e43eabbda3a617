/**
 * Reads fpm's public surface from the built declarations (dist/src/index.d.ts) with the
 * TypeScript compiler: every export with its kind, and the fpm types its declarations
 * use. For the public-API test and `npm run api:update`.
 */
import path from "node:path";
import ts from "typescript";
import { REPO_ROOT } from "../harness/vectors.js";

export const INDEX_DTS = path.join(REPO_ROOT, "dist", "src", "index.d.ts");
export const API_FILE = path.join(REPO_ROOT, "test", "api", "public-api.txt");
const DIST_SRC = path.join(REPO_ROOT, "dist", "src") + path.sep;

export interface ApiSurface {
  /**
   * `value|type kind name` per export, sorted by name: `value` when importable as a value,
   * `type` for a type-only export; kind is class, function, const, enum, interface or type.
   */
  lines: string[];
  /** `Type (used by Export)` for every fpm type a public declaration uses that is not exported. */
  unexportedTypes: string[];
  /** `Export uses module` for every public declaration that uses a CLI library's types. */
  cliGlue: string[];
}

/** Modules whose types mark an export as command-line glue. */
const CLI_MODULES = [`${path.sep}commander${path.sep}`];

function kindOf(symbol: ts.Symbol): string {
  const f = symbol.flags;
  if (f & ts.SymbolFlags.Class) return "class";
  if (f & ts.SymbolFlags.Function) return "function";
  if (f & ts.SymbolFlags.Enum) return "enum";
  if (f & ts.SymbolFlags.Variable) return "const";
  if (f & ts.SymbolFlags.Interface) return "interface";
  if (f & ts.SymbolFlags.TypeAlias) return "type";
  return "other";
}

/** Exported with `export type { X }`, or a type with no value meaning at all. */
function isTypeOnly(symbol: ts.Symbol): boolean {
  const spec = symbol.declarations?.find(ts.isExportSpecifier);
  if (spec && (spec.isTypeOnly || spec.parent.parent.isTypeOnly)) return true;
  return false;
}

export function readApiSurface(indexDts = INDEX_DTS): ApiSurface {
  const program = ts.createProgram([indexDts], { types: ["node"], skipLibCheck: true, noEmit: true });
  const checker = program.getTypeChecker();
  const index = program.getSourceFile(indexDts);
  if (!index) throw new Error(`${indexDts} not found: run npm run build`);
  const resolve = (s: ts.Symbol) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(index)!);
  const exported = new Set(exports.map(resolve));
  const lines = exports
    .map((s) => `${isTypeOnly(s) ? "type" : "value"} ${kindOf(resolve(s))} ${s.name}`)
    .sort((a, b) => a.split(" ")[2].localeCompare(b.split(" ")[2]));
  const unexported = new Set<string>();
  const cliGlue = new Set<string>();
  for (const e of exports) {
    for (const decl of resolve(e).declarations ?? []) {
      const visit = (n: ts.Node) => {
        if (ts.isTypeReferenceNode(n) || ts.isExpressionWithTypeArguments(n) || ts.isTypeQueryNode(n)) {
          const at = ts.isTypeReferenceNode(n) ? n.typeName : ts.isTypeQueryNode(n) ? n.exprName : n.expression;
          const used = checker.getSymbolAtLocation(at);
          if (used) check(e.name, resolve(used));
        }
        // Private members carry no type in a .d.ts; their names are not part of the surface.
        ts.forEachChild(n, visit);
      };
      visit(decl);
    }
  }
  function check(owner: string, used: ts.Symbol): void {
    if (used.flags & (ts.SymbolFlags.TypeParameter | ts.SymbolFlags.EnumMember)) return;
    for (const d of used.declarations ?? []) {
      const file = d.getSourceFile().fileName;
      if (CLI_MODULES.some((m) => file.includes(m))) cliGlue.add(`${owner} uses ${used.name} from commander`);
      if (file.startsWith(DIST_SRC) && !exported.has(used) && d.getSourceFile() !== undefined)
        unexported.add(`${used.name} (used by ${owner}; declared in ${path.relative(REPO_ROOT, file)})`);
    }
  }
  return { lines, unexportedTypes: [...unexported].sort(), cliGlue: [...cliGlue].sort() };
}
