/**
 * dist/ as tools/bundle.mjs writes it: one module per concept. What makes that safe is that every
 * source module lands in exactly one output module (so a class is one class from any subpath) and
 * the CLI reaches lib/ only through those bundles; what makes it worth having is the number of
 * modules an entry point loads, counted here rather than timed (bench/load.bench.ts times it).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DIST = join(REPO, 'dist');

function files(dir: string, ext: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p, ext) : p.endsWith(ext) ? [p] : [];
  });
}

/** The sources a bundle's map says it holds, relative to the package root. */
function mapSources(map: string): string[] {
  const m = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] };
  return m.sources.map((s) => relative(REPO, resolve(dirname(map), s)));
}

/** Every file of an output module's static import graph (package imports and builtins aside). */
function staticGraph(entry: string): string[] {
  const seen = new Set<string>();
  const walk = (f: string): void => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const m of readFileSync(f, 'utf8').matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*"(\.[^"]+)"|^import\s*"(\.[^"]+)"/gm)) {
      walk(resolve(dirname(f), (m[1] ?? m[2])!));
    }
  };
  walk(entry);
  return [...seen].map((f) => relative(DIST, f));
}

describe('dist bundles (tools/bundle.mjs)', function () {
  this.timeout(60_000);
  before(function () {
    if (!existsSync(join(DIST, 'lib/xenstore/_concept.js'))) throw new Error('dist/ is missing its bundles: run `npm run build` (tools/test.sh does)');
  });

  it('every lib/ and grammar/ source is in at most one library bundle', () => {
    const owners = new Map<string, string[]>();
    for (const map of files(join(DIST, 'lib'), '.js.map')) {
      for (const s of mapSources(map)) owners.set(s, [...(owners.get(s) ?? []), relative(DIST, map)]);
    }
    const twice = [...owners].filter(([, o]) => o.length > 1).map(([s, o]) => `${s}: ${o.join(', ')}`);
    assert.deepEqual(twice, []);
    assert.ok(owners.has('lib/xenstore/client.ts') && owners.has('lib/errors.ts'), 'the maps name their sources');
  });

  it('the CLI holds no lib/ source of its own: it imports the library bundles', () => {
    const inCli = files(join(DIST, 'cli'), '.js.map').flatMap(mapSources).filter((s) => !s.startsWith('cli/'));
    assert.deepEqual(inCli, []);
  });

  it('colo-xl/xenstore loads three modules: its entry, the xenstore bundle, the core', () => {
    assert.deepEqual(staticGraph(join(DIST, 'lib/xenstore/index.js')).sort(), ['lib/_core.js', 'lib/xenstore/_concept.js', 'lib/xenstore/index.js']);
  });

  it('a class is one class from every subpath', async () => {
    const root = await import('colo-xl');
    const xs = await import('colo-xl/xenstore');
    const xsd = await import('colo-xl/xenstored');
    const qmp = await import('colo-xl/qmp');
    assert.ok(new xs.XsError('ENOENT', 'READ') instanceof root.ColoXlError);
    assert.equal(root.XsClient, xs.XsClient);
    assert.equal(root.QMPError, qmp.QMPError);
    assert.ok(qmp.QMPError.prototype instanceof root.ColoXlError);
    assert.ok(typeof xsd.EmbeddedXenstored === 'function');
  });

  it('class names survive bundling (.name is what error reports print)', async () => {
    const xs = await import('colo-xl/xenstore');
    assert.equal(new xs.XsError('ENOENT', 'READ').name, 'XsError');
    assert.equal(xs.XenstoreUnavailableError.name, 'XenstoreUnavailableError');
  });
});
