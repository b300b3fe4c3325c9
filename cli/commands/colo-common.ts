/**
 * What `colo-xl colo`'s two kinds of steps share: the parsed command line, the QMP clients a
 * step opens (and always closes), and the step-timing record. colo.ts drives libxl's disk
 * replication with it, colo-native.ts QEMU's own COLO.
 */
import type { QMPClient } from '../../lib/qmp/client.js';
import type { QmpAddress } from '../../lib/qmp/protocol.js';
import { roundMs, type Output } from '../options.js';

export interface ColoOptions {
  step: string;
  native: boolean;
  migration?: { host: string; port: number };
  delay: number;
  primary?: QmpAddress;
  secondary?: QmpAddress;
  disks: Array<{ devid: number; exportName: string }>;
  nbd?: { host: string; port: number };
  count: number;
  interval: number;
  side: 'primary' | 'secondary';
}

/** A step's own timing line: `{"kind":"step","side":...,"step":...,"ms":...}` under --json. */
export function stepRecord(out: Output, side: string, step: string, ms: number): void {
  out.emit('step', { side, step, ms: roundMs(ms) }, `${side.padEnd(9)} ${step.padEnd(44)} ${ms.toFixed(1).padStart(8)} ms`);
}

/** A resync progress record; `disk` names the disk as the step knows it (export or colo-disk<i>). */
export function progressRecord(out: Output, pr: { exportName: string; offset: number; len: number }): void {
  const pct = pr.len ? Math.floor((100 * pr.offset) / pr.len) : 100;
  out.emit('progress', { disk: pr.exportName, offset: pr.offset, len: pr.len }, `resync ${pr.exportName}: ${pct}% (${pr.offset}/${pr.len} bytes)`);
}

/** The pause between two checkpoints of one `checkpoint -c N -i MS` call. */
export async function pauseBetween(o: ColoOptions, i: number): Promise<void> {
  if (i > 0 && o.interval > 0) await new Promise((res) => setTimeout(res, o.interval));
}

/**
 * Opens the QMP sockets a step needs (a failover does without the dead side), runs the step and
 * closes them, opened or half-opened, whatever the step did. A failure propagates to
 * runCommandLine, which makes it the command's error line (and JSON record) and status 1.
 */
export async function withColoClients(
  o: ColoOptions,
  step: (p: QMPClient | null, s: QMPClient | null) => Promise<number>,
): Promise<number> {
  const { QMPClient } = await import('../../lib/qmp/client.js');
  const clients: QMPClient[] = [];
  const open = async (a: QmpAddress | undefined, name: string): Promise<QMPClient | null> => {
    if (!a) return null;
    const c = await QMPClient.open(a, { name, retryMs: 0, timeoutMs: 5000 });
    clients.push(c);
    return c;
  };
  try {
    const p = o.step === 'failover' && o.side === 'secondary' ? null : await open(o.primary, 'primary');
    const s = o.step === 'failover' && o.side === 'primary' ? null : await open(o.secondary, 'secondary');
    return await step(p, s);
  } finally {
    await Promise.all(clients.map((c) => c.disconnect()));
  }
}
