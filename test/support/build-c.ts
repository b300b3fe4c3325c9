/**
 * Compiles the C helpers the tests run (oracles built from Xen's own code, LD_PRELOAD shims) into
 * os.tmpdir()/colo-xl-c, once per content of their sources and flags.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireFile } from './require-tool.js';

export interface CBuild {
  /** The name of the result (a .so gets that suffix). */
  name: string;
  sources: string[];
  /** Everything else gcc needs: flags, objects, libraries. */
  args: string[];
  shared?: boolean;
  /** Run before gcc in the build directory, e.g. to extract an object from an archive. */
  prepare?: (dir: string) => void;
}

export function buildC(b: CBuild): string {
  requireFile('/usr/bin/gcc', 'gcc');
  const hash = createHash('sha256');
  for (const s of b.sources) hash.update(readFileSync(s));
  hash.update(JSON.stringify(b.args));
  const dir = join(tmpdir(), 'colo-xl-c', `${b.name}-${hash.digest('hex').slice(0, 16)}`);
  const out = join(dir, b.shared ? `${b.name}.so` : b.name);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  b.prepare?.(dir);
  // build under a private name, then rename: a concurrent test run never sees half a binary
  const partial = `${out}.${process.pid}.tmp`;
  const r = spawnSync('gcc', [...(b.shared ? ['-shared', '-fPIC'] : []), '-O1', '-o', partial, ...b.sources, ...b.args], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building ${b.name} failed:\n${r.stderr}`);
  renameSync(partial, out);
  return out;
}
