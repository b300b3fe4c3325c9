/**
 * Progress of a migration on a terminal: one line per step, per-disk bytes copied and remaining
 * (at most every `intervalMs` per disk, and always when a disk comes in sync), memory bytes and
 * pages the same way, and the final report. The same events go out unchanged as JSON lines with
 * `--json`.
 */
import type { MigrateEvent, MigrateReport } from './types.js';

const MiB = 1024 * 1024;
const mib = (n: number): string => `${(n / MiB).toFixed(1)} MiB`;

export function formatReport(r: MigrateReport): string {
  const disks = r.disks.map((d) => `${d.device} ${mib(d.bytes)}`).join(', ');
  return (
    `migration done in ${r.totalMs} ms: disks ${r.mirrorMs} ms (${disks}), memory ${r.migrateMs} ms (${mib(r.memoryBytes)}), ` +
    `downtime ${r.downtimeMs} ms\n` +
    `the domain runs on the destination: QEMU pid ${r.destination.pid}, QMP ${r.destination.qmp}\n`
  );
}

/** Turns events into terminal lines, rate-limited per disk and for memory. */
export class ProgressPrinter {
  private last = new Map<string, number>();
  private inSync = new Set<string>();

  constructor(
    private readonly write: (text: string) => void,
    private readonly intervalMs = 500,
  ) {}

  private due(key: string, at: number, force: boolean): boolean {
    const prev = this.last.get(key);
    if (!force && prev !== undefined && at - prev < this.intervalMs) return false;
    this.last.set(key, at);
    return true;
  }

  event(e: MigrateEvent): void {
    switch (e.type) {
      case 'step':
        this.write(`migrate: ${e.step}\n`);
        return;
      case 'disk': {
        const first = e.ready && !this.inSync.has(e.device);
        if (first) this.inSync.add(e.device);
        if (!this.due(`disk:${e.device}`, e.at, first)) return;
        const pct = e.total > 0 ? Math.floor((100 * e.copied) / e.total) : 100;
        this.write(`migrate: disk ${e.device}: ${mib(e.copied)} copied, ${mib(e.remaining)} remaining (${pct}%)${e.ready ? ', in sync' : ''}\n`);
        return;
      }
      case 'memory':
        if (!this.due('memory', e.at, e.status !== 'active')) return;
        this.write(`migrate: memory: ${mib(e.transferredBytes)} sent, ${mib(e.remainingBytes)} remaining, ${e.pagesSent} pages (${e.status})\n`);
        return;
      case 'rollback':
        this.write(`migrate: rolling back after ${e.step} failed: ${e.reason}\n`);
        return;
      case 'done':
        this.write(formatReport(e.report));
        return;
    }
  }
}
