/**
 * Keeps the documentation's code honest: every ```ts block of README.md and docs/*.md (except
 * docs/testing.md, whose blocks are regions of docs/testing.test.ts and run there) and every
 * `@example` of the sources' doc comments is type-checked against the library's sources with the
 * TypeScript compiler, as a module of its own. A snippet sees the package's exports (`postSave`,
 * `SavePayload`, ...), the example's entities and the names of docs/snippets.context.ts
 * (`mailer`, `dataSource`, ...) without importing them; what it imports from 'typeorm-signals'
 * (and /testing, /jest, /nestjs) resolves to the sources. An API change that breaks a snippet fails here.
 */
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '..');
const SRC = path.join(ROOT, 'src');
const CONTEXT = path.join(__dirname, 'snippets.context.ts');
const ENTRY = {
  root: path.join(SRC, 'index.ts'),
  testing: path.join(SRC, 'testing', 'index.ts'),
  jest: path.join(SRC, 'jest.ts'),
  nestjs: path.join(SRC, 'nestjs', 'index.ts'),
};
/** How a snippet imports a module of this repository. */
const importPath = (file: string) => file.replace(/\.ts$/, '');

const options: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  strict: true,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  skipLibCheck: true,
  noEmit: true,
  types: ['node', 'jest'],
  lib: ['lib.es2022.d.ts', 'lib.esnext.disposable.d.ts'],
};

interface Snippet {
  /** "README.md:120" or "src/typeorm/model-signal.ts:88 (postSave)" */
  where: string;
  code: string;
}

/** The ```ts blocks of a Markdown file, with the line of their opening fence. */
function markdownSnippets(file: string): Snippet[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const found: Snippet[] = [];
  const fence = /^```ts\n([\s\S]*?)^```$/gm;
  for (let match = fence.exec(text); match; match = fence.exec(text)) {
    found.push({ where: `${file}:${text.slice(0, match.index).split('\n').length}`, code: match[1] });
  }
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'example' ? [] : sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The `@example` blocks of every doc comment under src/ (the example app aside). */
function exampleSnippets(): Snippet[] {
  const found: Snippet[] = [];
  for (const file of sourceFiles(SRC)) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    const seen = new Set<number>();
    const visit = (node: ts.Node) => {
      for (const doc of (node as { jsDoc?: ts.JSDoc[] }).jsDoc ?? []) {
        const tags = doc.tags ?? [];
        tags.forEach((tag, i) => {
          if (tag.tagName.text !== 'example' || seen.has(tag.pos)) return;
          seen.add(tag.pos);
          const line = source.getLineAndCharacterOfPosition(tag.pos).line + 1;
          const name = (node as { name?: ts.Node }).name?.getText(source) ?? ts.SyntaxKind[node.kind];
          let code = ts.getTextOfJSDocComment(tag.comment) ?? '';
          // TypeScript reads a decorator at the start of an example's line (`@OnSignal(...)`) as
          // a tag of its own: decorators are capitalized, JSDoc tags are not; join them back.
          for (const next of tags.slice(i + 1)) {
            if (!/^[A-Z]/.test(next.tagName.text)) break;
            const rest = ts.getTextOfJSDocComment(next.comment) ?? '';
            code += `\n@${next.tagName.text}${rest.startsWith('(') ? '' : '\n'}${rest}`;
          }
          found.push({ where: `${path.relative(ROOT, file)}:${line} (${name})`, code });
        });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

/** The names a snippet declares or imports at its top level: those it does not get from the preamble. */
function ownNames(code: string): Set<string> {
  const source = ts.createSourceFile('snippet.ts', code, ts.ScriptTarget.ES2022, true);
  const names = new Set<string>();
  const bind = (name: ts.BindingName) => {
    if (ts.isIdentifier(name)) names.add(name.text);
    else for (const element of name.elements) if (!ts.isOmittedExpression(element)) bind(element.name);
  };
  for (const statement of source.statements) {
    if (ts.isVariableStatement(statement)) statement.declarationList.declarations.forEach((d) => bind(d.name));
    else if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      if (clause?.name) names.add(clause.name.text);
      const bindings = clause?.namedBindings;
      if (bindings && ts.isNamedImports(bindings)) bindings.elements.forEach((e) => names.add(e.name.text));
      if (bindings && ts.isNamespaceImport(bindings)) names.add(bindings.name.text);
    } else if (
      (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) || ts.isEnumDeclaration(statement)) &&
      statement.name
    ) {
      names.add(statement.name.text);
    }
  }
  return names;
}

/** The package's import paths, and the application's own modules ('./entities'), resolved here. */
function resolveImports(code: string): string {
  return code.replace(/(from\s+|import\s+)'([^']+)'/g, (whole, keyword: string, spec: string) => {
    if (spec === 'typeorm-signals') return `${keyword}'${importPath(ENTRY.root)}'`;
    if (spec === 'typeorm-signals/testing') return `${keyword}'${importPath(ENTRY.testing)}'`;
    if (spec === 'typeorm-signals/jest') return `${keyword}'${importPath(ENTRY.jest)}'`;
    if (spec === 'typeorm-signals/nestjs') return `${keyword}'${importPath(ENTRY.nestjs)}'`;
    if (spec === 'typeorm-signals/matchers') return `${keyword}'${importPath(path.join(SRC, 'matchers.ts'))}'`;
    if (spec === 'typeorm-signals/vitest') return `${keyword}'${path.join(SRC, 'vitest.mjs')}'`; // src/vitest.mts
    if (spec.startsWith('.')) return `${keyword}'${importPath(CONTEXT)}'`;
    return whole;
  });
}

function exportNames(program: ts.Program, file: string): string[] {
  const checker = program.getTypeChecker();
  const symbol = checker.getSymbolAtLocation(program.getSourceFile(file)!);
  return symbol ? checker.getExportsOfModule(symbol).map((s) => s.name) : [];
}

function check(snippets: readonly Snippet[]): string[] {
  const base = ts.createProgram([ENTRY.root, ENTRY.testing, ENTRY.jest, ENTRY.nestjs, CONTEXT], options);
  const provided = new Map<string, string>(); // name -> module, first wins
  for (const file of [ENTRY.root, ENTRY.testing, ENTRY.jest, ENTRY.nestjs, CONTEXT]) {
    for (const name of exportNames(base, file)) if (!provided.has(name)) provided.set(name, file);
  }
  const virtual = new Map<string, Snippet & { text: string }>();
  snippets.forEach((snippet, i) => {
    const own = ownNames(snippet.code);
    const byModule = new Map<string, string[]>();
    for (const [name, file] of provided) {
      if (own.has(name)) continue;
      byModule.set(file, [...(byModule.get(file) ?? []), name]);
    }
    const preamble = [...byModule].map(([file, names]) => `import { ${names.join(', ')} } from '${importPath(file)}';`).join(' ');
    // One line of preamble, so the snippet's own line numbers are off by one only.
    virtual.set(path.join(__dirname, `__snippet_${i}.ts`), { ...snippet, text: `${preamble}\n${resolveImports(snippet.code)}\nexport {};\n` });
  });
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile;
  host.getSourceFile = (name, language, ...rest) => {
    const snippet = virtual.get(path.resolve(name));
    return snippet ? ts.createSourceFile(name, snippet.text, language) : getSourceFile.call(host, name, language, ...rest);
  };
  const fileExists = host.fileExists;
  host.fileExists = (name) => virtual.has(path.resolve(name)) || fileExists.call(host, name);
  const program = ts.createProgram([...virtual.keys()], options, host, base);
  const problems: string[] = [];
  for (const [file, snippet] of virtual) {
    for (const d of ts.getPreEmitDiagnostics(program, program.getSourceFile(file))) {
      if (d.file && path.resolve(d.file.fileName) !== file) continue;
      const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : 0;
      problems.push(`${snippet.where} (snippet line ${line}): TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
    }
  }
  return problems;
}

const markdown = ['README.md', ...readdirSync(__dirname).filter((f) => f.endsWith('.md') && f !== 'testing.md').map((f) => `docs/${f}`)];

test('every ```ts block of README.md and docs/*.md type-checks against the sources', () => {
  const snippets = markdown.flatMap(markdownSnippets);
  expect(snippets.length).toBeGreaterThan(10);
  expect(check(snippets)).toEqual([]);
}, 120_000);

test('every @example of the doc comments type-checks against the sources', () => {
  const snippets = exampleSnippets();
  expect(snippets.length).toBeGreaterThan(50);
  expect(check(snippets)).toEqual([]);
}, 120_000);
