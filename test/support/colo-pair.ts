/**
 * What the COLO pair tests need on top of cli/lab/pair.ts (which keeps only what the drill
 * needs): whether a QEMU serves guest writes of its own, and a real-QEMU suite's directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QemuProcess } from '../../lib/qemu/process.js';
import { requireQemu, stopAllQemus } from './qemu.js';

/**
 * Whether a QEMU serves guest writes of its own: alive, running, and not a COLO secondary (whose
 * writes the next checkpoint throws away).
 */
export async function isWritable(q: QemuProcess): Promise<boolean> {
  if (!q.alive) return false;
  try {
    const st = await q.qmp.execute<{ status: string }>('query-status', undefined, { timeoutMs: 2000 });
    const colo = await q.qmp.execute<{ mode: string }>('query-colo-status', undefined, { timeoutMs: 2000 });
    // "colo" is the run-state during a checkpoint: the VM pauses for it and runs on after
    return (st.status === 'running' || st.status === 'colo') && colo.mode !== 'secondary';
  } catch {
    return false;
  }
}

/**
 * A scratch directory for a suite of real-QEMU tests, with the hooks every such suite has: QEMU
 * required before, every QEMU stopped and the directory removed after. Call it in a describe.
 */
export function qemuSuiteDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  before(() => requireQemu());
  after(async () => {
    await stopAllQemus();
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}
