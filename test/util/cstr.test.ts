import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { atoi, strtol, strtoul, type StrtoBase } from '../../lib/util/cstr.js';
import { strerror } from '../../lib/util/errno.js';
import { buildC } from '../support/build-c.js';

// Each helper against glibc itself: one line to the oracle per case, one `it` per answer.
const NUMBERS = [
  '', '0', '  42', '+7x', '-3', '0x1f', '0X', '0x', '0xg', '017', '08', 'z', '1e3', ' \t\n\v\f\r5', '- 5',
  '9223372036854775807', '9223372036854775808', '-9223372036854775808', '-9223372036854775809',
  '18446744073709551615', '18446744073709551616', '-1', '-18446744073709551615', '4294967297', '2147483648',
  '-2147483649', '99999999999999999999', 'ff', '0xffffffffffffffffff',
];
const BASES: StrtoBase[] = [0, 8, 10, 16];
const ERRNOS = [
  'EPERM', 'ENOENT', 'ESRCH', 'EINTR', 'EIO', 'ENXIO', 'EBADF', 'EAGAIN', 'ENOMEM', 'EACCES', 'EBUSY', 'EEXIST', 'ENODEV',
  'ENOTDIR', 'EISDIR', 'EINVAL', 'EMFILE', 'ENOSPC', 'EROFS', 'ERANGE', 'ENAMETOOLONG', 'ELOOP', 'ENOTEMPTY',
] as const;

interface Case {
  name: string;
  /** The oracle's input line. */
  line: string;
  ours: () => string;
}

const hex = (s: string): string => (s === '' ? '-' : Buffer.from(s, 'latin1').toString('hex'));
const scan = (r: { value: bigint; end: number; erange: boolean }): string => `${BigInt.asIntN(64, r.value)} ${r.end} ${r.erange ? 1 : 0}`;
const scanU = (r: { value: bigint; end: number; erange: boolean }): string => `${r.value} ${r.end} ${r.erange ? 1 : 0}`;

const cases: Case[] = [
  ...BASES.flatMap((base) =>
    NUMBERS.flatMap((s): Case[] => [
      { name: `strtol(${JSON.stringify(s)}, ${base})`, line: `strtol ${base} ${hex(s)}`, ours: () => scan(strtol(s, base)) },
      { name: `strtoul(${JSON.stringify(s)}, ${base})`, line: `strtoul ${base} ${hex(s)}`, ours: () => scanU(strtoul(s, base)) },
    ]),
  ),
  ...NUMBERS.map((s): Case => ({ name: `atoi(${JSON.stringify(s)})`, line: `atoi 0 ${hex(s)}`, ours: () => String(atoi(s)) })),
  ...ERRNOS.map((code): Case => ({ name: `strerror(${code})`, line: `strerror ${constants.errno[code]} -`, ours: () => strerror(code) ?? '' })),
];

describe('C helpers (lib/util/cstr.ts, lib/util/errno.ts) against glibc', () => {
  let answers: string[] = [];
  before(function () {
    this.timeout(60_000);
    const oracle = buildC({ name: 'cstr-oracle', sources: [fileURLToPath(new URL('../support/native/cstr-oracle.c', import.meta.url))], args: [] });
    const r = spawnSync(oracle, { input: cases.map((c) => c.line).join('\n') + '\n', encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    answers = r.stdout.split('\n');
  });

  cases.forEach((c, i) => {
    it(c.name, () => assert.equal(c.ours(), answers[i]));
  });

  it('strerror of a name not in the table is undefined', () => assert.equal(strerror('ENOTATHING'), undefined));
});
