/**
 * xl.cfg files that grow without bound (issue 12 §8): very long lists, very many lines, very long
 * strings and very deep nesting. libxlutil's parser and the real `xl -N create` are the judges;
 * colo-xl must say what they say, in time and memory that grow linearly with the input.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { xluCfgReadData } from '../../lib/xlu/cfg/parse.js';
import type { XlResult } from '../support/real-xl.js';
import { realXlSession } from './support/xl-session.js';
import type { ChildMetrics } from './support/cli-child.js';
import { ours, resultText } from './support/ours.js';
import { cli as runColoXl } from '../support/cli.js';
import { libxluParse } from './support/xlucfg-oracle.js';

const here = dirname(fileURLToPath(import.meta.url));
const HEAD = 'name = "g"\ntype = "hvm"\nuuid = "12345678-1234-1234-1234-123456789abc"\n';
// The heap colo-xl gets for each case: the 16 MB string needs a few copies of itself, and any
// quadratic cost (the old parser kept a copy of a list per item) runs out long before this.
const HEAP_MB = 160;

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const nested = (n: number, open = '[', close = ']'): string => open.repeat(n) + close.repeat(n);

/** The growth cases, each a whole config xl accepts or refuses in full. */
const GROWTH: { name: string; text: string }[] = [
  { name: '30,000-item list', text: `${HEAD}serial = [${range(30_000).map((i) => `"pty${i}"`).join(', ')}]\n` },
  { name: '30,000 assignment lines', text: HEAD + range(30_000).map((i) => `memory = ${i}\n`).join('') },
  {
    name: '10,000 disks',
    text: `${HEAD}disk = [\n${range(10_000).map((i) => `  'vdev=xvd${String.fromCharCode(97 + (i % 26))},format=raw,target=/srv/d${i}.img'`).join(',\n')}\n]\n`,
  },
  { name: 'extra = 16 MB string', text: `${HEAD}extra = "${'c'.repeat(16 << 20)}"\n` },
  { name: '10,000 list += lines', text: HEAD + range(10_000).map((i) => `serial += ["p${i}"]\n`).join('') },
  { name: '10,000 string += lines', text: `${HEAD}extra = ""\n` + range(10_000).map((i) => `extra += " x${i}"\n`).join('') },
  { name: 'list nested 4,996 deep (accepted)', text: `${HEAD}serial = ${nested(4996)}\n` },
  { name: 'list nested 4,997 deep', text: `${HEAD}serial = ${nested(4997)}\n` },
  { name: 'list nested 5,000 deep', text: `${HEAD}serial = ${nested(5000)}\n` },
];

describe('xl.cfg inputs that grow without bound, against libxlutil 4.17', function () {
  this.timeout(120_000);

  it('long lists, many lines, long strings and many += lines: the settings and report libxlutil gives', () => {
    const inputs = [
      // (each `+=` of a string keeps its own concatenation, so the oracle's listing of 10,000 of
      // them would be half a gigabyte: 3,000 here)
      ...GROWTH.filter((g) => !g.name.includes('nested') && !g.name.includes('string +=')).map((g) => g.text),
      range(3_000).map((i) => `extra += " x${i}"\n`).join(''),
      // flex searches to the end of the input at every `#` here: two seconds for libxlutil
      `a = 1\n${'# '.repeat(10_000)}`,
      range(30_000).map((i) => `k${i} = ${i}\n`).join(''),
      `a = '${'\\n'.repeat(1 << 20)}'\n`,
      `a = [${range(30_000).map((i) => `\n[${i}, "x"]`).join(',')},\n]`,
    ];
    const real = libxluParse(inputs);
    inputs.forEach((text, i) => {
      const mine = ours(text);
      assert.equal(mine.rc, real[i]!.rc, `input ${i}`);
      assert.equal(mine.report, real[i]!.report, `input ${i}`);
      assert.ok(resultText(mine) === resultText(real[i]!), `input ${i}: settings differ`);
    });
  });

  it('lists nested to bison\'s stack limit (YYMAXDEPTH 10000): "memory exhausted" at the same depth, in every shape', () => {
    const inputs: string[] = [];
    for (let n = 4990; n <= 5001; n++) inputs.push(`a = ${nested(n)}\n`);
    // Items before each inner list keep five states per level on bison's stack, not two.
    for (let n = 1990; n <= 2002; n++) inputs.push(`a = ${nested(n, '[1, ', ']')}\n`);
    for (const n of [1995, 1999, 2003]) inputs.push(`a = ${nested(n, '[\n"x"\n,', '\n]')}\n`);
    inputs.push(
      `b = 2\nc = [1, 2]\na = ${nested(5000)}\nd = 3\n`, // what was stored before stays
      `= 1\na = ${nested(5000)}\n`, // after a syntax error and its recovery
      `$ a = ${nested(5000)}\n`, // a lexical error on the same line silences the report
      `$\na += ${nested(5000)}`,
      `a = ${'['.repeat(6000)}`, // never closed
      `a = ${nested(20_000)}\n`,
      `a = ${nested(1996)}\nb = ${nested(1997, '[1,', ']')}\n`,
    );
    const real = libxluParse(inputs);
    // Which inputs libxlutil reports as too deep ('x'): each shape straddles the limit. The two
    // silent ones after a lexical error are not accepted either: the report is the lexical error's
    // (yyerror stays quiet on the line of a lexical error, and `$\n` counts as the next line).
    const exhausted = real.map((r) => (r.report.includes('memory exhausted') ? 'x' : '.')).join('');
    assert.equal(exhausted, ['.......xxxxx', '..........xxx', '.xx', 'xx..xx.'].join(''));
    const bad = inputs.filter((text, i) => resultText(ours(text)) !== resultText(real[i]!));
    assert.deepEqual(bad.map((text) => text.slice(0, 40)), []);
  });

  it('parse time grows linearly: four times the input costs well under sixteen times the time', () => {
    // The best of three runs each, so that a busy machine does not decide; a quadratic parser
    // would show a ratio near 16.
    const best = (text: string): number => {
      let t = Infinity;
      for (let k = 0; k < 3; k++) {
        const t0 = performance.now();
        xluCfgReadData(text, 't.cfg');
        t = Math.min(t, performance.now() - t0);
      }
      return t;
    };
    const list = (n: number): string => `a = [${range(n).map((i) => `"v${i}"`).join(', ')}]\n`;
    const lines = (n: number): string => range(n).map((i) => `k${i} = ${i}\n`).join('');
    // (a line of `#` with no newline after it: a lexical error, found in linear time)
    const hashes = (n: number): string => `a = 1\n${'# '.repeat(n)}`;
    for (const make of [list, lines, hashes]) {
      best(make(2_000)); // warm the JIT
      const ratio = best(make(32_000)) / best(make(8_000));
      assert.ok(ratio < 10, `${make.name}: 4x the input took ${ratio.toFixed(1)}x the time`);
    }
  });
});

interface Run extends XlResult {
  ms: number;
  metrics?: ChildMetrics;
}

/** colo-xl -N create in its own process, with a capped heap. */
function runColoXlChild(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', `--max-old-space-size=${HEAP_MB}`, join(here, 'support/cli-child.ts'), ...args],
      { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] },
    );
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let side = '';
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => (side += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        status,
        ms: performance.now() - t0,
        metrics: side ? (JSON.parse(side) as ChildMetrics) : undefined,
      });
    });
  });
}

async function timed(run: () => Promise<XlResult>): Promise<Run> {
  const t0 = performance.now();
  const r = await run();
  return { ...r, ms: performance.now() - t0 };
}

describe('xl.cfg inputs that grow without bound: colo-xl -N create vs xl -N create', function () {
  this.timeout(300_000);
  const session = realXlSession('colo-xl-growth-');
  const table: string[] = [];
  after(() => {
    if (table.length > 0) process.stdout.write(`      case: xl | colo-xl (in the command; whole process, peak RSS)\n${table.join('')}`);
  });

  for (const [i, g] of GROWTH.entries()) {
    it(`growth case ${g.name}: the same stdout, stderr and status, with a ${HEAP_MB} MB heap`, async () => {
      const path = join(session.dir, `growth${i}.cfg`);
      writeFileSync(path, g.text);
      const args = ['-N', 'create', path];
      const real = await timed(() => session.xl.run(args));
      const mine = await runColoXlChild(args);
      assert.equal(mine.status, real.status, `${g.name}: status (colo-xl stderr: ${mine.stderr.slice(0, 400)})`);
      assert.equal(mine.stderr, real.stderr, g.name);
      assert.ok(mine.stdout === real.stdout, `${g.name}: stdout differs (${mine.stdout.length} vs ${real.stdout.length} bytes)`);
      const m = mine.metrics!;
      table.push(`      ${g.name}: ${real.ms.toFixed(0)} ms | ${m.ms.toFixed(0)} ms; ${mine.ms.toFixed(0)} ms, ${(m.maxRssKb / 1024).toFixed(0)} MB\n`);
    });
  }

  it('cmdline, root and extra combine as xl\'s parse_cmdline combines them', async () => {
    const cases = [
      'extra = "console=ttyS0"', 'root = "/dev/xvda1"', 'root = "/dev/xvda1"\nextra = "ro quiet"',
      'cmdline = "init=/bin/sh"\nroot = "/dev/xvda1"', 'cmdline = "a"\nextra = ""', 'extra = ["x"]\nroot = "/r"',
      'cmdline = ["x"]\nextra = "e"', 'extra = ""', 'extra = "a\\tb\\"c\\\\"',
    ];
    const bad: string[] = [];
    for (const [i, c] of cases.entries()) {
      const path = join(session.dir, `cmdline${i}.cfg`);
      writeFileSync(path, `${HEAD}${c}\n`);
      const [real, mine] = await Promise.all([session.xl.run(['-N', 'create', path]), runColoXl(['-N', 'create', path])]);
      if (real.stdout !== mine.stdout || real.stderr !== mine.stderr || real.status !== mine.status) {
        bad.push(`${c}\n--- xl (${real.status})\n${real.stderr}${real.stdout}--- colo-xl (${mine.status})\n${mine.stderr}${mine.stdout}`);
      }
    }
    assert.deepEqual(bad, []);
    // and libxl hands it to QEMU, right after the keymap (libxl__build_device_model_args_new)
    const path = join(session.dir, 'cmdline-dm.cfg');
    writeFileSync(path, `${HEAD}keymap = "de"\nroot = "/dev/xvda1"\nextra = "ro"\n`);
    const dm = await runColoXl(['devmodel-args', path]);
    assert.equal(dm.status, 0, dm.stderr);
    assert.match(dm.stdout, /^-k\nde\n-append\nroot=\/dev\/xvda1 ro\n-device\n/m);
  });
});
