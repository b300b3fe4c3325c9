/**
 * Bringing a new secondary's disk level with the primary's before replication is re-armed: a
 * drive-mirror over the secondary's NBD export, until BLOCK_JOB_READY, then cancelled (which keeps
 * the primary on its own disk). Progress is reported while it runs.
 */
import type { QMPClient } from '../qmp/client.js';
import type { QmpEvent } from '../qmp/message.js';
import { ColoError } from './errors.js';
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
  const host = disk.host.includes(':') ? `[${disk.host}]` : disk.host;
  return `nbd://${host}:${disk.port}/${exportName}`;
}

/** A mirror that is level and still copying new writes; `finish()` cancels it (keeping the source). */
export interface LevelMirror {
  finish(): Promise<void>;
}

/**
 * Mirrors the primary's `disk` into the secondary's export and resolves once the copy is level;
 * the mirror keeps copying guest writes until `finish()`, so a caller can pause the guest, finish
 * and re-arm replication with nothing written in between.
 */
export async function resyncDisk(
  primary: QMPClient,
  disk: ColoDisk,
  onProgress: (p: ResyncProgress) => void = () => undefined,
  timeoutMs = 600_000,
  /** The target's export when it differs from the source device (QEMU-native: parent<i>). */
  targetExport = disk.exportName,
): Promise<LevelMirror> {
  const job = `colo-resync-${disk.devid}`;
  const events = primary.listen(
    ['BLOCK_JOB_READY', 'BLOCK_JOB_COMPLETED', 'BLOCK_JOB_CANCELLED', 'BLOCK_JOB_ERROR'],
    (e) => e.data?.device === job,
  );
  const fail = (msg: string): never => {
    throw new ColoError('primary', `resync ${disk.exportName}`, msg);
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
    const deadline = Date.now() + timeoutMs;
    let ready: QmpEvent | null = null;
    while (!ready) {
      const e = await events.next(200).catch(() => null);
      if (e?.event === 'BLOCK_JOB_READY') ready = e;
      else if (e && e.event !== 'BLOCK_JOB_ERROR') fail(`job ended before it was ready: ${JSON.stringify(e.data)}`);
      else if (e) fail(`I/O error: ${JSON.stringify(e.data)}`);
      const jobs = await primary.execute<BlockJobInfo[]>('query-block-jobs');
      const j = jobs.find((x) => x.device === job);
      if (j) onProgress({ exportName: disk.exportName, offset: j.offset, len: j.len });
      if (Date.now() > deadline) fail(`not level after ${timeoutMs} ms`);
    }
    onProgress({ exportName: disk.exportName, offset: Number(ready.data?.offset ?? 0), len: Number(ready.data?.len ?? 0) });
  } catch (e) {
    primary.removeListener(events);
    await primary.execute('block-job-cancel', { device: job, force: true }).catch(() => undefined);
    throw e;
  }
  return {
    async finish(): Promise<void> {
      try {
        await primary.execute('block-job-cancel', { device: job });
        for (;;) {
          const e = await events.get(30_000);
          if (e.event === 'BLOCK_JOB_COMPLETED' || e.event === 'BLOCK_JOB_CANCELLED') {
            if (e.data?.error) fail(`job failed: ${String(e.data.error)}`);
            return;
          }
        }
      } finally {
        primary.removeListener(events);
      }
    },
  };
}
