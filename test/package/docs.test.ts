/**
 * `npm run docs` (TypeDoc over the subpath barrels) builds, and gives each subpath in package.json
 * `exports` its own module page, named by its import name (tools/typedoc-subpaths.mjs).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { name: string; exports: Record<string, string | { import: string }> };
const subpaths = Object.entries(pkg.exports).filter(([, t]) => typeof t !== 'string');
const importName = (key: string): string => (key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`);
const barrel = (t: string | { import: string }): string => (typeof t === 'string' ? t : t.import).replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts');

describe('API docs (TypeDoc)', function () {
  this.timeout(120_000);
  let out: string;
  before(async () => {
    out = mkdtempSync(join(tmpdir(), 'colo-xl-docs-'));
    await promisify(execFile)(process.execPath, [join(REPO, 'node_modules/typedoc/bin/typedoc'), '--out', out], { cwd: REPO });
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it('typedoc.json documents exactly the barrels package.json exports', () => {
    const text = readFileSync(join(REPO, 'typedoc.json'), 'utf8').replace(/^\s*\/\/.*$/gm, '');
    const entries = (JSON.parse(text) as { entryPoints: string[] }).entryPoints;
    assert.deepEqual([...entries].sort(), subpaths.map(([, t]) => barrel(t)).sort());
  });

  for (const [key] of subpaths) {
    const name = importName(key);
    it(`has a module page for ${name}`, () => {
      assert.ok(existsSync(join(out, 'modules', `${name.replace(/\//g, '_')}.html`)));
    });
  }
});
