/**
 * Runs Xen 4.17's real libxlutil config parser (test/config/support/xlucfg-oracle.c, compiled
 * once per content hash) on many inputs in one process.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireFile } from '../../support/require-tool.js';

const here = dirname(fileURLToPath(import.meta.url));

export type OracleValue = string | null | OracleValue[];

export interface OracleResult {
  rc: number;
  report: string;
  /** Most recent first, like libxlu's list. */
  settings: { name: string; op: '=' | '+='; line: number; value: OracleValue }[];
}

function build(): string {
  requireFile('/usr/bin/gcc', 'gcc');
  requireFile('/usr/include/libxlutil.h', 'libxen-dev');
  const src = join(here, 'xlucfg-oracle.c');
  const hash = createHash('sha256').update(readFileSync(src)).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'colo-xl-shims');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `xlucfg-oracle-${hash}`);
  if (existsSync(out)) return out;
  const partial = `${out}.${process.pid}.tmp`;
  const r = spawnSync('gcc', ['-O2', '-Wall', '-o', partial, src, '-lxlutil'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`compiling ${src} failed:\n${r.stderr}`);
  renameSync(partial, out);
  return out;
}

/** Parses each input with libxlutil (report source `source`). */
export function libxluParse(inputs: string[], source = 'test.cfg'): OracleResult[] {
  const bin = build();
  let stdin = '';
  for (const text of inputs) stdin += `${source}\n${Buffer.byteLength(text)}\n${text}`;
  const r = spawnSync(bin, { input: stdin, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`xlucfg-oracle failed (${r.status}): ${r.stderr}`);
  const lines = r.stdout.toString('utf8').trimEnd().split('\n');
  if (lines.length !== inputs.length) throw new Error(`xlucfg-oracle answered ${lines.length} of ${inputs.length}`);
  return lines.map((l) => JSON.parse(l) as OracleResult);
}
