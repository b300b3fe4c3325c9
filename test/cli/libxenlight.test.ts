/**
 * The commands colo-xl runs on Xen's own libxenlight (list, destroy, a real create), on a host
 * with no hypervisor: Xen's libraries say why in their own words, exactly as real xl 4.17 (run
 * here without its shims) does. The same commands on a real hypervisor: test/xen/.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XL_BIN } from '../support/real-xl.js';
import { requireFile } from '../support/require-tool.js';
import { cliProcess } from '../support/cli.js';

function realXl(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(requireFile(XL_BIN, 'xen-utils-4.17'), args, { encoding: 'utf8', env: { PATH: process.env.PATH } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('libxenlight commands on a host without Xen: the words of real xl', function () {
  this.timeout(60_000);
  before(function () {
    if (spawnSync('test', ['-e', '/dev/xen/privcmd']).status === 0) throw new Error('this host runs Xen: these cases are for a host without it (see test/xen/)');
  });

  for (const args of [['list'], ['list', '0'], ['destroy', '3'], ['destroy', 'nosuch']]) {
    it(`colo-xl ${args.join(' ')} = xl ${args.join(' ')}`, async () => {
      const theirs = realXl(args);
      const mine = await cliProcess(args, { env: { PATH: process.env.PATH } });
      assert.deepEqual(mine, theirs);
      assert.match(mine.stderr, /cannot init xl context\n$/);
    });
  }

  it('a real create without Xen says the dry run is what works here, and touches nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'colo-xl-create-'));
    const cfg = join(dir, 'g.cfg');
    writeFileSync(cfg, 'name = "g"\ntype = "pv"\nkernel = "/boot/vmlinuz"\nmemory = 128\n');
    const r = await cliProcess(['create', cfg], { env: { PATH: process.env.PATH, COLO_XL_HOST_ROOT: dir } });
    assert.deepEqual(r, { status: 3, stdout: '', stderr: `Parsing config from ${cfg}\ncolo-xl: creating a domain needs a Xen host; use the dry run (colo-xl -N create)\n` });
  });
});
