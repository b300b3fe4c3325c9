/**
 * The COLO benchmarks' rounds: each on a fresh primary/secondary pair in a fresh directory, all
 * QEMUs in one group that ends with the run whatever fails, alternating colo-xl and the raw floor.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QemuGroup, type QemuProcess } from '../lib/qemu/process.js';
import { alternate, type Sample } from './raw-qmp.js';

/** One round's QEMUs and their directory. */
export interface BenchPair {
  dir: string;
  p: QemuProcess;
  s: QemuProcess;
}

/** alternate() over pairs that `start` spawns into the run's group in a fresh `colo-xl-bench-<tag>-` directory. */
export async function alternatePairs<X extends BenchPair>(
  rounds: number,
  tag: string,
  start: (dir: string, qemus: QemuGroup) => Promise<X>,
  ours: (x: X) => Promise<Sample>,
  raw: (x: X) => Promise<Sample>,
): Promise<{ ours: Sample[]; raw: Sample[] }> {
  const qemus = new QemuGroup();
  const end = async (x: X): Promise<void> => {
    await Promise.all([x.p.stop(1000), x.s.stop(1000)]);
    rmSync(x.dir, { recursive: true, force: true });
  };
  try {
    return await alternate(rounds, () => start(mkdtempSync(join(tmpdir(), `colo-xl-bench-${tag}-`)), qemus), end, ours, raw);
  } finally {
    await qemus.stopAll();
  }
}
