#!/usr/bin/env node
/**
 * Writes dist/'s JavaScript: one module per concept, not one per source file.
 *
 * Node's ES module loader pays about a millisecond and a half for every module it loads (resolve,
 * read, compile, link), so `import { XsClient } from 'colo-xl/xenstore'` over tsc's 1:1 output
 * loaded 11 modules in 22–40 ms. Here each source directory of lib/ becomes one bundle (its
 * `_concept.js`), and an import that crosses into another directory stays an import, of that
 * directory's bundle. Every source module therefore lives in exactly one output module, so a class
 * is one class however it is reached (`instanceof ColoXlError` holds across subpaths), and the
 * bundles form the same acyclic graph as the directories (the build fails on a cycle).
 *
 * Each public entry (package.json "exports") is a short module re-exporting its index.ts's names
 * from its concept. The CLI is an application: esbuild's own code splitting, so a command loads
 * only its chunk, with imports into lib/ kept as imports of the concept bundles.
 *
 * Declarations come from `tsc --emitDeclarationOnly` (see package.json "build"); this writes .js
 * and .js.map only. Run from the package root.
 */
import { build } from 'esbuild';
import { readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = process.cwd();
const DIST = join(ROOT, 'dist');

/**
 * Where a directory is not the right unit. The core is what nearly every concept imports, in one
 * module so an entry point pays one load for it; cjs.ts loads nearley and moo when evaluated, so
 * it stays apart from the rest of util/ and only the languages pay for it.
 */
const ASSIGN = new Map([
  ['lib/errors.ts', 'lib/core'],
  ['lib/util/wait.ts', 'lib/core'],
  ['lib/util/log.ts', 'lib/core'],
  ['lib/util/cjs.ts', 'lib/util/cjs'],
  ['lib/index.ts', 'lib/root'],
]);

/**
 * The concept a source file belongs to: its directory, or the set of directories that import each
 * other (libxl/ and libxl/dm/ do), named by the shortest. grammar/ (nearleyc's output) is inlined
 * where it is used.
 */
function conceptOf(rel) {
  if (ASSIGN.has(rel)) return ASSIGN.get(rel);
  if (rel.startsWith('grammar/')) return null;
  return merged.get(dirname(rel)) ?? dirname(rel);
}

/** Directory → concept, for directories on an import cycle (Tarjan's strongly connected components). */
async function mergedDirectories(files) {
  const r = await build({ ...esbuildBase, entryPoints: files, outdir: DIST, write: false, metafile: true, sourcemap: false, logLevel: 'error' });
  const next = new Map();
  for (const [file, input] of Object.entries(r.metafile.inputs)) {
    if (!file.startsWith('lib/') || ASSIGN.has(file)) continue;
    for (const i of input.imports) {
      if (i.external || !i.path.startsWith('lib/') || ASSIGN.has(i.path) || dirname(i.path) === dirname(file)) continue;
      next.set(dirname(file), new Set([...(next.get(dirname(file)) ?? []), dirname(i.path)]));
    }
  }
  const index = new Map();
  const low = new Map();
  const stack = [];
  const out = new Map();
  let n = 0;
  const strong = (v) => {
    index.set(v, n);
    low.set(v, n++);
    stack.push(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc = [];
    for (let w; w !== v; ) scc.push((w = stack.pop()));
    if (scc.length === 1) return;
    const name = scc.reduce((a, b) => (a.length <= b.length ? a : b));
    for (const d of scc) out.set(d, name);
  };
  for (const v of next.keys()) if (!index.has(v)) strong(v);
  return out;
}

const outputOf = (concept) =>
  [...ASSIGN.values()].includes(concept) ? join(DIST, dirname(concept), `_${concept.split('/').pop()}.js`) : join(DIST, `${concept}/_concept.js`);

function sources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [relative(ROOT, p)] : [];
  });
}

function specifier(fromFile, toFile) {
  const s = relative(dirname(fromFile), toFile);
  return s.startsWith('.') ? s : `./${s}`;
}

/** Keeps a relative import inside the bundle when it stays in `own`; otherwise points it at its concept's bundle. */
function conceptImports(own, outFile, edges, grammarUsers) {
  return {
    name: 'concept-imports',
    setup(b) {
      b.onResolve({ filter: /^concept:/ }, (a) => ({ path: a.path.slice('concept:'.length), namespace: 'concept' }));
      b.onLoad({ filter: /.*/, namespace: 'concept' }, (a) => ({
        contents: members.get(a.path).map((f) => `export * from ${JSON.stringify(join(ROOT, f))};`).join('\n'),
        resolveDir: ROOT,
        loader: 'js',
      }));
      b.onResolve({ filter: /^\.\.?\// }, (a) => {
        const file = resolve(a.resolveDir, a.path.replace(/\.js$/, '.ts'));
        const rel = relative(ROOT, file);
        const target = conceptOf(rel);
        if (target === null) {
          const users = grammarUsers.get(rel) ?? new Set();
          grammarUsers.set(rel, users.add(own));
          return { path: file };
        }
        if (target === own) return { path: file };
        edges.add(`${own}\0${target}`);
        return { path: specifier(outFile, outputOf(target)), external: true };
      });
    },
  };
}

const esbuildBase = { bundle: true, keepNames: true, format: 'esm', platform: 'node', target: 'node20', packages: 'external', sourcemap: true, logLevel: 'warning', absWorkingDir: ROOT };

const libFiles = sources(join(ROOT, 'lib'));
const merged = await mergedDirectories(libFiles);
const members = new Map();
for (const f of libFiles) {
  const c = conceptOf(f);
  members.set(c, [...(members.get(c) ?? []), f]);
}

const edges = new Set();
const grammarUsers = new Map();
for (const concept of members.keys()) {
  const outfile = outputOf(concept);
  await build({ ...esbuildBase, entryPoints: [`concept:${concept}`], outfile, plugins: [conceptImports(concept, outfile, edges, grammarUsers)] });
}

// A grammar inlined into two bundles would be two copies; each has one user today.
for (const [g, users] of grammarUsers) if (users.size > 1) throw new Error(`${g} is used by ${[...users].join(', ')}: give it a concept`);

// The concept graph must be acyclic, as the directories' import graph is.
const next = new Map();
for (const e of edges) {
  const [a, b] = e.split('\0');
  next.set(a, [...(next.get(a) ?? []), b]);
}
const state = new Map();
const visit = (c, path) => {
  if (state.get(c) === 'done') return;
  if (state.get(c) === 'open') throw new Error(`concept cycle: ${[...path, c].join(' -> ')}`);
  state.set(c, 'open');
  for (const d of next.get(c) ?? []) visit(d, [...path, c]);
  state.set(c, 'done');
};
for (const c of members.keys()) visit(c, []);

// Public entries: the names index.ts exports at run time, re-exported from the concept.
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const entries = [];
for (const target of Object.values(pkg.exports)) {
  if (typeof target !== 'object' || !target.import) continue;
  const out = join(ROOT, target.import);
  const src = relative(DIST, out).replace(/\.js$/, '.ts');
  const names = await runtimeExports(src);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `export { ${names.join(', ')} } from ${JSON.stringify(specifier(out, outputOf(conceptOf(src))))};\n`);
  entries.push(out);
}

async function runtimeExports(src) {
  const r = await build({
    ...esbuildBase,
    entryPoints: [src],
    write: false,
    outdir: DIST,
    metafile: true,
    sourcemap: false,
    plugins: [{ name: 'external', setup: (b) => b.onResolve({ filter: /^\.\.?\// }, (a) => (a.kind === 'entry-point' ? undefined : { path: a.path, external: true })) }],
  });
  const out = Object.values(r.metafile.outputs).find((o) => o.entryPoint);
  return out.exports;
}

// The CLI: split by command, lib/ through its concept bundles.
const cliDir = join(DIST, 'cli');
await build({
  ...esbuildBase,
  entryPoints: ['cli/main.ts'],
  outdir: cliDir,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  plugins: [
    {
      name: 'cli-imports',
      setup(b) {
        b.onResolve({ filter: /^\.\.?\// }, (a) => {
          const file = resolve(a.resolveDir, a.path.replace(/\.js$/, '.ts'));
          const rel = relative(ROOT, file);
          if (rel.startsWith('cli/')) return { path: file };
          // The importer's output location is not known yet (chunks), so this is a path from
          // dist/cli/; chunks live one level deeper and esbuild rewrites external paths per chunk
          // only for packages, so chunk imports are fixed up below.
          return { path: `colo-xl-dist:${relative(DIST, outputOf(conceptOf(rel)))}`, external: true };
        });
      },
    },
  ],
});
// Point the placeholder specifiers at the concept bundles, relative to each CLI output file.
for (const file of walkJs(cliDir)) {
  const text = readFileSync(file, 'utf8');
  const fixed = text.replace(/"colo-xl-dist:([^"]+)"/g, (_, p) => JSON.stringify(specifier(file, join(DIST, p))));
  if (fixed !== text) writeFileSync(file, fixed);
}

function walkJs(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walkJs(p) : p.endsWith('.js') ? [p] : [];
  });
}

// Link every output once, so a name missing from a concept (an ambiguous `export *`) fails here.
for (const file of [...entries, ...walkJs(cliDir), ...[...members.keys()].map(outputOf)]) await import(pathToFileURL(file).href);
console.log(`bundle: ${members.size} concepts, ${entries.length} entry points, CLI in ${walkJs(cliDir).length} modules`);
