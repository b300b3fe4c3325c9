import assert from 'node:assert/strict';
import { cli } from '../support/cli.js';
import { generateDiskCorpus } from '../support/disk-corpus.js';
import { startRealXl, type RealXl } from '../support/real-xl.js';

/** Argument lists around the specs: arity, domain qualifiers, options. */
const argumentCases: string[][] = [
  ['-N', 'block-attach'],
  ['-N', 'block-attach', '0'],
  ['-N', 'block-attach', '-h'],
  ['-N', 'block-attach', '--help'],
  ['-N', 'block-attach', '-x', '0', '/x,,xvda'],
  ['-N', 'block-attach', '0', '/x,,xvda'],
  ['-N', 'block-attach', '7', 'vdev=xvdb', 'format=qcow2', 'target=/p.qcow2'],
  ['-N', 'block-attach', '', '/x,,xvda'],
  ['-N', 'block-attach', '--', '0', '/x,,xvda'],
  ['-N', 'block-attach', '0', '--', '/x,,xvda'],
  ['-N', 'block-attach', '0', '/x', ',', 'xvda'],
  ['-N', 'block-attach', '0', '/x', '', 'xvda'],
  ['-N', 'block-attach', '0', 'vdev=a,vdev=b,=\n'],
  ['-N', 'block-attach', '0', 'A=\nb'],
  ['-N', 'block-attach', '--foo', '0', 'x'],
  ['-N', 'block-attach', '--he', '0'],
  ['-N', 'block-attach', '--help=x'],
  ['-N', 'block-attach', '-hx'],
  ['-N', 'block-attach', '-vh'],
  ['-N', 'block-attach', '0', '-h'],
  ['-N', 'block-attach', '0', '-an6lm5'],
  ['-N', 'block-attach', '4294967297', '/x,,xvda'],
  ['-N', 'help', 'block-attach'],
];

// Every 25th entry of the differential corpus: each one is a real xl process, so a sample.
const sample = generateDiskCorpus({ size: 5000 }).filter((_, i) => i % 25 === 0);

describe('colo-xl -N block-attach against Xen 4.17 xl -N block-attach', function () {
  this.timeout(180_000);
  let xl: RealXl;
  before(async () => {
    xl = await startRealXl();
  });
  after(async () => {
    await xl?.stop();
  });

  async function compare(args: string[]): Promise<void> {
    const [want, got] = [await xl.run(args), await cli(args)];
    assert.deepEqual(got, { stdout: want.stdout, stderr: want.stderr, status: want.status }, `colo-xl ${JSON.stringify(args)}`);
  }

  describe('argument handling: arity, help, options, domain qualifiers, multi-word specs', () => {
    for (const args of argumentCases) it(JSON.stringify(args.slice(1)), () => compare(args));
  });

  describe('stdout, stderr and exit status on a sample of the disk corpus', () => {
    it('the sample is large enough', () => assert.ok(sample.length >= 200, `${sample.length} specs`));
    for (const [i, { specs }] of sample.entries()) {
      // argv words cannot hold NUL; xl would never see such a word
      if (specs.some((s) => s.includes('\0'))) continue;
      it(`corpus sample ${i}: ${JSON.stringify(specs).slice(0, 60)}`, () => compare(['-N', 'block-attach', '0', ...specs]));
    }
  });
});
