/**
 * Libxl-style COLO disk replication between a primary and a secondary QEMU, one method per step
 * (set-up of each side, checkpoint, teardown, failover either way, resume with a new secondary).
 * Xen itself moves memory and drives the checkpoints; this drives only what QEMU does for disks.
 */
import type { QMPClient } from '../qmp/client.js';
import { XEN_DISK_REPLICATION, requireFeature } from '../qmp/probe.js';
import { ColoError, coloWait, ReplicationStatusError, type ColoSide } from './errors.js';
import {
  coloDoCheckpoint,
  coloQdiskSavePreresume,
  coloQdiskSetupSecondary,
  coloQdiskTeardownPrimary,
  nbdServerStop,
  queryXenReplicationStatus,
  startReplication,
  stopReplication,
  type ColoDisk,
} from './qdisk.js';
import { resyncDisk, type LevelMirror, type ResyncProgress } from './resync.js';
import { scopedLogger, type Logger } from '../util/log.js';
import { sleep, type WaitOptions } from '../util/wait.js';

export interface CheckpointTiming {
  /** Sequence number, from 1. */
  n: number;
  /** Whole checkpoint: status queries and both xen-colo-do-checkpoint. */
  totalMs: number;
  secondaryMs: number;
  primaryMs: number;
}

export type ReplicationState = 'idle' | 'secondary-ready' | 'replicating' | 'stopped' | 'failed-over';

export interface ReplicationOptions {
  /**
   * Diagnostics: every QMP step as it completes, `debug('<side> <step>', {side, step, ms})`;
   * each checkpoint at `info`. Scoped `colo`.
   */
  logger?: Logger;
  /** How long the secondary's failover commit may take before it counts as failed (default 60 s). */
  commitTimeoutMs?: number;
}

/** waitFailoverCommit's bound when the caller gives none. */
export const DEFAULT_COMMIT_TIMEOUT_MS = 60_000;

const now = (): number => performance.now();

export class XenDiskReplication {
  state: ReplicationState = 'idle';
  checkpoints = 0;
  /** How long the secondary's failover commit may take before it counts as failed. */
  commitTimeoutMs: number;
  private primaryArmed = false;
  private secondaryArmed = false;
  private readonly logger: Logger;

  constructor(
    public primary: QMPClient | null,
    public secondary: QMPClient | null,
    readonly disks: ColoDisk[],
    opts: ReplicationOptions = {},
  ) {
    if (disks.length === 0) throw new ColoError('primary', 'setup', 'no COLO disk');
    this.logger = scopedLogger(opts.logger, 'colo');
    this.commitTimeoutMs = opts.commitTimeoutMs ?? DEFAULT_COMMIT_TIMEOUT_MS;
  }

  private log(side: ColoSide, step: string, ms: number, level: 'debug' | 'info' = 'debug'): void {
    this.logger[level](`${side} ${step}`, { side, step, ms });
  }

  /**
   * For a caller that set replication up in an earlier process (the CLI runs one step per call):
   * take the state as given instead of having done the steps here.
   */
  assume(state: ReplicationState): this {
    this.state = state;
    this.secondaryArmed = state === 'secondary-ready' || state === 'replicating';
    this.primaryArmed = state === 'replicating';
    return this;
  }

  /**
   * A planned end that keeps the primary: its replication is torn down and the secondary's NBD
   * server stopped. The secondary is left for destruction without libxl's plain stop, which on
   * QEMU 7.2 fails and turns its replication status into "I/O error".
   */
  async stop(): Promise<void> {
    if (this.primary) await this.teardownPrimary();
    if (this.secondary) await this.timed('secondary', 'nbd-server-stop', () => nbdServerStop(this.secondary as QMPClient));
    this.secondaryArmed = false;
    this.state = 'stopped';
  }

  private need(side: ColoSide): QMPClient {
    const q = side === 'primary' ? this.primary : this.secondary;
    if (!q) throw new ColoError(side, 'connect', `no QMP connection to the ${side}`);
    return q;
  }

  private async timed<T>(side: ColoSide, what: string, run: () => Promise<T>): Promise<T> {
    const t = now();
    const r = await run();
    this.log(side, what, now() - t);
    return r;
  }

  /** Checks both QEMUs can do it before anything is changed on either. */
  async probe(): Promise<void> {
    for (const side of ['secondary', 'primary'] as const) {
      const q = side === 'primary' ? this.primary : this.secondary;
      if (q) await this.timed(side, 'probe', () => requireFeature(q, 'Xen COLO disk replication', XEN_DISK_REPLICATION));
    }
  }

  // colo_qdisk_setup (secondary) + the start of replication in colo_restore's first resume
  async setupSecondary(): Promise<void> {
    const s = this.need('secondary');
    await this.timed('secondary', 'nbd-server-start/add', () => coloQdiskSetupSecondary(s, this.disks));
    await this.timed('secondary', 'xen-set-replication enable', () => startReplication(s, false));
    this.secondaryArmed = true;
    this.state = 'secondary-ready';
  }

  // colo_qdisk_save_preresume + colo_preresume_cb's first start of replication (primary)
  async setupPrimary(): Promise<void> {
    const p = this.need('primary');
    if (this.state !== 'secondary-ready') {
      throw new ColoError('primary', 'setup', `the secondary must be set up first (state ${this.state})`);
    }
    for (const d of this.disks) await this.timed('primary', `drive_add + x-blockdev-change ${d.exportName}`, () => coloQdiskSavePreresume(p, d));
    await this.timed('primary', 'xen-set-replication enable', () => startReplication(p, true));
    this.primaryArmed = true;
    this.state = 'replicating';
  }

  /**
   * One checkpoint, with both VMs paused by the caller (Xen suspends them): both sides' status
   * must be clean, then the secondary drops its own writes and the primary's become its view.
   */
  async checkpoint(): Promise<CheckpointTiming> {
    if (this.state !== 'replicating') throw new ColoError('primary', 'checkpoint', `not replicating (state ${this.state})`);
    const p = this.need('primary');
    const s = this.need('secondary');
    const t0 = now();
    await Promise.all([queryXenReplicationStatus(p, 'primary'), queryXenReplicationStatus(s, 'secondary')]);
    const t1 = now();
    await coloDoCheckpoint(s, 'secondary');
    const t2 = now();
    await coloDoCheckpoint(p, 'primary');
    const t3 = now();
    this.checkpoints++;
    const timing = { n: this.checkpoints, totalMs: t3 - t0, secondaryMs: t2 - t1, primaryMs: t3 - t2 };
    this.log('primary', `checkpoint ${this.checkpoints}`, timing.totalMs, 'info');
    return timing;
  }

  /** Status of both sides (throws ReplicationStatusError on {"error": true}). */
  async status(): Promise<void> {
    if (this.primary && this.primaryArmed) await queryXenReplicationStatus(this.primary, 'primary');
    if (this.secondary && this.secondaryArmed) await queryXenReplicationStatus(this.secondary, 'secondary');
  }

  // libxl__colo_save_teardown's disk part: the primary goes on alone (also its failover when the
  // secondary is lost: none of these commands needs the secondary to answer).
  async teardownPrimary(): Promise<void> {
    const p = this.need('primary');
    if (this.primaryArmed) {
      await this.timed('primary', 'xen-set-replication disable', () => stopReplication(p, true));
      this.primaryArmed = false;
    }
    for (const d of this.disks) await this.timed('primary', `x-blockdev-change -children.1 ${d.exportName}`, () => coloQdiskTeardownPrimary(p, d));
    this.state = this.state === 'failed-over' ? this.state : 'stopped';
  }

  /** The secondary is gone: the primary stops replicating and keeps serving. */
  async failoverPrimary(): Promise<void> {
    await this.teardownPrimary();
    this.secondary = null;
    this.secondaryArmed = false;
    this.state = 'failed-over';
  }

  /**
   * The primary is gone: the secondary takes over. libxl's stop (without failover) fails on QEMU
   * 7.2 and leaves the replication in "I/O error"; with failover the active and hidden disks are
   * committed into the secondary's disk, which then holds the last checkpoint's view.
   */
  async failoverSecondary(o: WaitOptions = {}): Promise<void> {
    const s = this.need('secondary');
    if (this.secondaryArmed) {
      await this.timed('secondary', 'xen-set-replication disable failover', () => stopReplication(s, false, true));
      this.secondaryArmed = false;
    }
    // one server for all disks: stop it once (libxl stops it per disk; the second one fails)
    await this.timed('secondary', 'nbd-server-stop', () => nbdServerStop(s));
    await this.timed('secondary', 'commit of active+hidden', () => waitFailoverCommit(s, { signal: o.signal, timeoutMs: o.timeoutMs ?? this.commitTimeoutMs }));
    this.primary = null;
    this.primaryArmed = false;
    this.state = 'failed-over';
  }

  /**
   * Re-protects a primary that failed over with a new secondary: the secondary's disks are
   * mirrored level from the primary's over NBD, then, with the primary paused for a moment so no
   * write falls between the mirror and replication, both sides are armed again and a first
   * checkpoint makes the secondary's view equal the primary's.
   */
  async resume(newSecondary: QMPClient, onProgress?: (p: ResyncProgress) => void, o: WaitOptions = {}): Promise<void> {
    const p = this.need('primary');
    if (this.primaryArmed) throw new ColoError('primary', 'resume', 'the primary is still replicating: tear it down or fail over first');
    this.secondary = newSecondary;
    this.checkpoints = 0;
    const s = newSecondary;
    await this.timed('secondary', 'nbd-server-start/add', () => coloQdiskSetupSecondary(s, this.disks));
    const mirrors: LevelMirror[] = [];
    for (const d of this.disks) mirrors.push(await this.timed('primary', `resync ${d.exportName}`, () => resyncDisk(p, d, { onProgress, ...o })));
    const st = await p.execute<{ status: string; running: boolean }>('query-status');
    if (st.running) await p.execute('stop');
    try {
      for (const m of mirrors) await this.timed('primary', 'mirror cancel', () => m.finish());
      await this.timed('secondary', 'xen-set-replication enable', () => startReplication(s, false));
      this.secondaryArmed = true;
      this.state = 'secondary-ready';
      await this.setupPrimary();
      await this.checkpoint();
    } finally {
      if (st.running) await p.execute('cont');
    }
  }
}

/**
 * After a failover stop, QEMU commits the active and hidden disks into the secondary's disk with
 * an internal job that query-block-jobs does not list, and query-xen-replication-status reports
 * "I/O error occurred" until it ends. Wait for the job's filter node (mirror_top) to go and the
 * status to come back clean; a status still in error after that is a real failure. The same
 * wait serves a QEMU-native secondary's takeover, which commits the same way.
 */
export async function waitFailoverCommit(s: Pick<QMPClient, 'execute'>, o: WaitOptions = {}): Promise<void> {
  const bound = { signal: o.signal, timeoutMs: o.timeoutMs ?? DEFAULT_COMMIT_TIMEOUT_MS };
  await coloWait('secondary', 'failover commit', bound, async (signal) => {
    let idleSince = 0;
    for (;;) {
      const nodes = await s.execute<Array<{ drv: string }>>('query-named-block-nodes', { flat: true });
      const st = await s.execute<{ error?: boolean; desc?: string }>('query-xen-replication-status');
      const committing = nodes.some((n) => n.drv === 'mirror_top');
      if (!committing && !st.error) return;
      if (committing) idleSince = 0;
      else if (idleSince === 0) idleSince = Date.now();
      // the status lags the job by a moment; an error that outlives it is the replication's own
      if (idleSince !== 0 && Date.now() - idleSince > 1000) throw new ReplicationStatusError('secondary', st.desc ?? '');
      await sleep(5, { signal });
    }
  });
}
