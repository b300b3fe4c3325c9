import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli as runColoXl } from '../support/cli.js';
import type { XlResult } from '../support/real-xl.js';
import { describeMismatch, realXlSession, sameResult } from './support/xl-session.js';
import { generateConfig, Rng } from './support/config-gen.js';

const coloXl = (args: string[]): Promise<XlResult> => runColoXl(args);

describe('colo-xl -N create is byte-identical to Xen 4.17 xl -N create', function () {
  this.timeout(240_000);
  const session = realXlSession('colo-xl-create-');

  async function compare(args: string[], label: string, text = ''): Promise<string | null> {
    const [real, mine] = await Promise.all([session.xl.run(args), coloXl(args)]);
    return sameResult(real, mine) ? null : describeMismatch(label, text, real, mine);
  }

  it('the lab COLO config (hda with colo, export e1)', async () => {
    const path = join(session.dir, 'colo-test.cfg');
    writeFileSync(
      path,
      'name = "colo-test"\ntype = "hvm"\nuuid = "2014b759-99aa-4bdf-b97e-40548f7a9903"\nmemory = 256\nvcpus = 1\n' +
        "disk = [ 'vdev=hda,format=qcow2,colo,colo-host=127.0.0.1,colo-port=9000,colo-export=e1,active-disk=/srv/colo/a.qcow2,hidden-disk=/srv/colo/h.qcow2,target=/srv/colo/p.qcow2' ]\n" +
        'device_model_version = "qemu-xen"\n',
    );
    assert.equal(await compare(['-N', 'create', path], 'colo-test.cfg'), null);
    const mine = await coloXl(['-N', 'create', path]);
    assert.match(mine.stdout, /"colo_enable": "True",\n {12}"colo_host": "127.0.0.1",\n {12}"colo_port": 9000,/);
  });

  it('command-line forms: key=value words, -q, -n, /dev/null, a missing file, no file', async () => {
    const path = join(session.dir, 'base.cfg');
    writeFileSync(path, 'name="base"\ntype="hvm"\n');
    const uuid = 'uuid="12345678-1234-1234-1234-123456789abc"';
    const cases: string[][] = [
      ['-N', 'create', path, uuid, 'memory=64'],
      ['-N', 'create', '-q', path, uuid],
      ['create', '-n', path, uuid],
      ['-N', 'create', '/dev/null', 'name="x"', 'type="hvm"', uuid, 'vcpus=2'],
      ['-N', 'create', '-f', path, uuid],
      ['-N', 'create', join(session.dir, 'missing.cfg')],
      ['-N', 'create', session.dir],
      ['-N', 'create', '-z', path],
      ['-N', 'create', '--zz', path],
      ['-N', 'create', '-qz', path],
      ['-N', 'create', path, '-f'],
      ['-N', 'create', '--defconfig'],
      ['-N', 'create'],
    ];
    const bad = [];
    for (const c of cases) {
      const m = await compare(c, c.join(' '));
      if (m) bad.push(m);
    }
    assert.deepEqual(bad, []);
    // Usage errors: same status; the help text is colo-xl's own.
    for (const args of [['-N', 'create', path, join(session.dir, 'second.cfg')], ['-N', 'create', path, uuid, '-q', '--dryrun']]) {
      const [real, mine] = await Promise.all([session.xl.run(args), coloXl(args)]);
      assert.deepEqual([real.status, mine.status, mine.stderr], [2, 2, ''], args.join(' '));
    }
  });

  it('600 generated configs (valid, warned about and refused)', async () => {
    const rng = new Rng(20260517);
    const bad: string[] = [];
    const jobs = Array.from({ length: 600 }, (_, i) => {
      const text = generateConfig(rng);
      const path = join(session.dir, `gen${i}.cfg`);
      writeFileSync(path, text);
      return { path, text };
    });
    // Two at a time: the real xl is a process each.
    for (let i = 0; i < jobs.length; i += 2) {
      const res = await Promise.all(jobs.slice(i, i + 2).map((j) => compare(['-N', 'create', j.path], j.path, j.text)));
      for (const m of res) if (m) bad.push(m);
    }
    assert.equal(bad.length, 0, `${bad.length} mismatches; first:\n${bad.slice(0, 3).join('\n')}`);
  });
});
