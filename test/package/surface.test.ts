/**
 * The package as a program sees it: each subpath of package.json `exports`, imported by package
 * name (resolved through `exports` to dist/, so it needs the build tools/test.sh runs first).
 * An exported Error class's export name is its class name (ColoXlError sets `name` from it), and
 * `.` stays a small stable set.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown> };
const subpaths = Object.keys(pkg.exports).filter((k) => k !== './package.json');
const importName = (key: string): string => (key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`);
const ROOT_MAX = 30;

const isErrorClass = (v: unknown): v is Function => typeof v === 'function' && v.prototype instanceof Error;

describe('package surface (by package name, from dist)', function () {
  this.timeout(60_000);
  before(function () {
    if (!existsSync(join(REPO, 'dist/lib/index.js'))) throw new Error('dist/lib is missing: run `npm run build` (tools/test.sh does)');
  });

  for (const key of subpaths) {
    const name = importName(key);
    it(`${name}: every exported Error class is exported under its own name`, async () => {
      const mod = (await import(name)) as Record<string, unknown>;
      const wrong = Object.entries(mod).filter(([k, v]) => isErrorClass(v) && v.name !== k).map(([k, v]) => `${k} is class ${(v as Function).name}`);
      assert.deepEqual(wrong, []);
    });
  }

  it(`${pkg.name} exports at most ${ROOT_MAX} names`, async () => {
    const names = Object.keys((await import(pkg.name)) as object);
    assert.ok(names.length <= ROOT_MAX, `${names.length} names: ${names.join(', ')}`);
  });
});
