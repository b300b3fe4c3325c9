/**
 * Bringing a new secondary's disk level with the primary's before replication is re-armed: a
 * drive-mirror over the secondary's NBD export, until BLOCK_JOB_READY, then cancelled (which keeps
 * the primary on its own disk). Progress is reported while it runs.
 */
import type { QMPClient } from '../qmp/client.js';
import { formatHostPort } from '../util/host-port.js';
import type { WaitOptions } from '../util/wait.js';
import { ColoError, coloWait } from './errors.js';
import type { ColoDisk } from './qdisk.js';

export interface ResyncProgress {
  exportName: string;
  offset: number;
  len: number;
}

interface BlockJobInfo {
  device: string;
  offset: number;
  len: number;
  ready?: boolean;
}

export function nbdUri(disk: ColoDisk, exportName = disk.exportName): string {
  return `nbd://${formatHostPort(disk)}/${exportName}`;
}

/** A mirror that is level and still copying new writes; `finish()` cancels it (keeping the source). */
export interface LevelMirror {
  /** Cancels the job and waits for its end (default: at most 30 s). */
  finish(o?: WaitOptions): Promise<void>;
}

export interface ResyncOptions extends WaitOptions {
  /** Called with the job's progress while it copies (default: nothing). */
  onProgress?: (p: ResyncProgress) => void;
  /** The target's export when it differs from the source device (QEMU-native: parent<i>). */
  targetExport?: string;
}

/** resyncDisk's bound when the caller gives none: a large disk over a slow link takes a while. */
export const DEFAULT_RESYNC_TIMEOUT_MS = 600_000;
const MIRROR_CANCEL_TIMEOUT_MS = 30_000;

/**
 * Mirrors the primary's `disk` into the secondary's export and resolves once the copy is level;
 * the mirror keeps copying guest writes until `finish()`, so a caller can pause the guest, finish
 * and re-arm replication with nothing written in between.
 */
export async function resyncDisk(primary: QMPClient, disk: ColoDisk, o: ResyncOptions = {}): Promise<LevelMirror> {
  const onProgress = o.onProgress ?? (() => undefined);
  const targetExport = o.targetExport ?? disk.exportName;
  const step = `resync ${disk.exportName}`;
  const job = `colo-resync-${disk.devid}`;
  const events = primary.listen(
    ['BLOCK_JOB_READY', 'BLOCK_JOB_COMPLETED', 'BLOCK_JOB_CANCELLED', 'BLOCK_JOB_ERROR'],
    (e) => e.data?.device === job,
  );
  const fail = (msg: string): never => {
    throw new ColoError('primary', step, msg);
  };
  try {
    await primary.execute('drive-mirror', {
      device: disk.exportName,
      'job-id': job,
      target: nbdUri(disk, targetExport),
      format: 'raw',
      mode: 'existing',
      sync: 'full',
    });
    const bound = { signal: o.signal, timeoutMs: o.timeoutMs ?? DEFAULT_RESYNC_TIMEOUT_MS };
    const ready = await coloWait('primary', step, bound, async (signal) => {
      for (;;) {
        // the progress poll's period: an event that comes sooner ends the wait at once
        const e = await events.next({ signal, timeoutMs: 200 }).catch(() => null);
        if (signal.aborted) return null;
        if (e?.event === 'BLOCK_JOB_READY') return e;
        if (e && e.event !== 'BLOCK_JOB_ERROR') fail(`job ended before it was ready: ${JSON.stringify(e.data)}`);
        else if (e) fail(`I/O error: ${JSON.stringify(e.data)}`);
        const jobs = await primary.execute<BlockJobInfo[]>('query-block-jobs');
        const j = jobs.find((x) => x.device === job);
        if (j) onProgress({ exportName: disk.exportName, offset: j.offset, len: j.len });
      }
    });
    if (!ready) fail('the wait was given up');
    onProgress({ exportName: disk.exportName, offset: Number(ready!.data?.offset ?? 0), len: Number(ready!.data?.len ?? 0) });
  } catch (e) {
    primary.removeListener(events);
    await primary.execute('block-job-cancel', { device: job, force: true }).catch(() => undefined);
    throw e;
  }
  return {
    async finish(w: WaitOptions = {}): Promise<void> {
      try {
        await primary.execute('block-job-cancel', { device: job });
        await coloWait('primary', `${step}: cancel`, { signal: w.signal, timeoutMs: w.timeoutMs ?? MIRROR_CANCEL_TIMEOUT_MS }, async (signal) => {
          for (;;) {
            const e = await events.get({ signal });
            if (e.event === 'BLOCK_JOB_COMPLETED' || e.event === 'BLOCK_JOB_CANCELLED') {
              if (e.data?.error) fail(`job failed: ${String(e.data.error)}`);
              return;
            }
          }
        });
      } finally {
        primary.removeListener(events);
      }
    },
  };
}
