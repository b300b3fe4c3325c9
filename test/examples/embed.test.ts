/**
 * examples/embed.ts, the embedding example, run as a management stack would run it: by package
 * name through the `exports` of the built package (tools/test.sh builds before the tests).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { scaled } from '../support/slowness.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('examples/embed.ts (a management stack embedding colo-xl)', function () {
  this.timeout(scaled(60_000));

  before(() => {
    assert.ok(existsSync(join(ROOT, 'dist', 'lib', 'index.d.ts')), 'dist/ is missing: run `npm run build` first (tools/test.sh does)');
  });

  it('type-checks against the published declarations (only public subpaths)', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'examples', 'tsconfig.json')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it('attaches, watches with a timeout and an AbortSignal, reads back, detaches and exits 0', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'examples', 'embed.ts')], { cwd: ROOT, encoding: 'utf8', timeout: scaled(50_000) });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const lines = r.stdout.split('\n');
    const has = (re: RegExp): void => assert.ok(lines.some((l) => re.test(l)), `no line like ${re} in:\n${r.stdout}`);
    has(/^attached: devid 51728, backend qdisk, state 4$/);
    has(/^watch fired for \/local\/domain\/0\/backend\/qdisk\/1\/51728\/state$/);
    has(/^no change within 200 ms: WaitTimeoutError \(WAIT_TIMEOUT\)$/);
    has(/^wait given up by its AbortSignal: AbortedError \(ABORTED\)$/);
    has(/^read back: xvdb on .*primary\.qcow2 \(backend qdisk\)$/);
    has(/^detached: 0 disks left$/);
    assert.equal(lines.at(-2), 'done');
    assert.equal(r.stderr, '');
  });
});
