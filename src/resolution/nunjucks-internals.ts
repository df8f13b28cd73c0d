/**
 * Typed access to the parts of nunjucks 3.2 that its public API and `@types/nunjucks` do not cover:
 * the parser, the AST node classes, the compiler and the transformer. We compile templates ourselves
 * so that we can rewrite the AST between parsing and code generation (see `jinja-compat.ts`); these
 * are the same steps `nunjucks.compiler.compile` performs.
 */
import { createRequire } from 'node:module';
import nunjucks from 'nunjucks';

/** A nunjucks AST node. `fields` names the properties that hold child nodes or values. */
export interface NjNode {
  readonly typename: string;
  readonly fields: readonly string[];
  lineno: number;
  colno: number;
  [field: string]: unknown;
}

type NodeClass = new (lineno: number, colno: number, ...fields: unknown[]) => NjNode;

interface NodesModule {
  Node: NodeClass;
  NodeList: NodeClass;
  Symbol: NodeClass;
  Literal: NodeClass;
  Filter: NodeClass;
}

interface ParserModule {
  parse(src: string, extensions: unknown[], opts: Record<string, unknown>): NjNode;
}

interface CompilerInstance {
  compile(node: NjNode): void;
  getCode(): string;
}

interface CompilerModule {
  Compiler: new (templateName: string, throwOnUndefined: boolean) => CompilerInstance;
}

interface TransformerModule {
  transform(ast: NjNode, asyncFilters: string[], name: string): NjNode;
}

/** The object a compiled template module returns (`root` and block functions). */
export type CompiledTemplate = Record<string, unknown>;

/** nunjucks' TemplateError: an Error with the template line/column where it happened. */
export interface NunjucksTemplateError extends Error {
  lineno?: number;
  colno?: number;
  cause?: unknown;
}

const require = createRequire(import.meta.url);
const internals = nunjucks as unknown as { nodes: NodesModule; parser: ParserModule; compiler: CompilerModule };
const transformer = require('nunjucks/src/transformer.js') as TransformerModule;

export const njNodes: NodesModule = internals.nodes;

export function isNjNode(value: unknown): value is NjNode {
  return value instanceof internals.nodes.Node;
}

export function parseTemplate(src: string): NjNode {
  return internals.parser.parse(src, [], {});
}

/** Generates and evaluates the code of a (rewritten) AST, as nunjucks' own compile step does. */
export function compileAst(ast: NjNode, name: string): CompiledTemplate {
  const compiler = new internals.compiler.Compiler(name, false);
  compiler.compile(transformer.transform(ast, [], name));
  // nunjucks evaluates its generated code the same way; the code comes from our AST, not from users.
  const factory = new Function(compiler.getCode()) as () => CompiledTemplate;
  return factory();
}

/** A renderable template from compiled code, bound to `env` (its filters, tests and globals). */
export function templateFromCode(code: CompiledTemplate, env: nunjucks.Environment, name: string): nunjucks.Template {
  const TemplateClass = nunjucks.Template as unknown as new (
    src: { type: 'code'; obj: CompiledTemplate },
    env: nunjucks.Environment,
    path: string,
    eagerCompile: boolean,
  ) => nunjucks.Template;
  return new TemplateClass({ type: 'code', obj: code }, env, name, true);
}
