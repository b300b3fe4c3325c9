/**
 * QEMU-native COLO (KVM hosts), the QMP steps of QEMU's COLO-FT procedure (seed 002): start
 * (NBD export on the secondary, replication node and x-colo migration on the primary),
 * checkpoints driven by x-checkpoint-delay, status, failover on either side, and resume in
 * either direction (drive-mirror resync, then re-arm).
 */
import type { QMPClient } from '../qmp/client.js';
import type { EventListener } from '../qmp/events.js';
import type { QmpEvent } from '../qmp/message.js';
import { QEMU_COLO, requireFeature } from '../qmp/probe.js';
import { formatHostPort } from '../util/host-port.js';
import { scopedLogger, type Logger } from '../util/log.js';
import { sleep, type WaitOptions } from '../util/wait.js';
import { CheckpointWatch, type Checkpoint } from './checkpoint.js';
import { ColoError, coloStep, coloWait, type ColoSide } from './errors.js';
import { diskId, parentId, primaryFilterObjects, replicationNode, type NativeNic } from './native-args.js';
import { resyncDisk, type LevelMirror, type ResyncProgress } from './resync.js';

/** The bounds of start()/resume()'s COLO entry and of a failover, when the options give none. */
export const DEFAULT_ENTRY_TIMEOUT_MS = 60_000;
export const DEFAULT_FAILOVER_TIMEOUT_MS = 30_000;

export interface NativeColoOptions {
  /** Disk indexes (colo-disk<i>). */
  disks: number[];
  nbd: { host: string; port: number };
  migration: { host: string; port: number };
  checkpointDelayMs: number;
  /** The VMs have the NIC objects of native-args (filters, colo-compare). */
  nic?: NativeNic;
  /**
   * id of a tls-creds-x509 object on each QEMU (endpoint server on the secondary, client on the
   * primary): NBD replication and the migration/checkpoint stream then run over TLS.
   */
  tlsCreds?: string;
  /** How long start() and resume() wait for both sides to be in COLO after `migrate` (default 60 s). */
  entryTimeoutMs?: number;
  /** How long a failover waits for COLO mode "none" after x-colo-lost-heartbeat (default 30 s). */
  failoverTimeoutMs?: number;
  /** How long resume() waits for each disk's resync to be level (default 10 min). */
  resyncTimeoutMs?: number;
  /** Diagnostics (each step as it runs); scoped `colo`. */
  logger?: Logger;
}

export interface ColoStatus {
  mode: 'primary' | 'secondary' | 'none';
  'last-mode'?: string;
  reason: string;
}

export class QemuNativeColo {
  /** Whether the current primary was a secondary before (its filters go before rew0). */
  primaryWasSecondary = false;

  /** COLO_EXIT listeners per QEMU, from the start: the event can come before any failover call. */
  private readonly exits = new Map<QMPClient, EventListener>();
  /** Checkpoint watches per QEMU that has been a primary here (see checkpoint.ts). */
  private readonly watches = new Map<QMPClient, CheckpointWatch>();
  private readonly log: Logger;

  constructor(
    public primary: QMPClient | null,
    public secondary: QMPClient | null,
    readonly opts: NativeColoOptions,
  ) {
    this.log = scopedLogger(opts.logger, 'colo');
    for (const q of [primary, secondary]) if (q) this.watch(q);
    if (primary) this.checkpoints();
  }

  /**
   * Stops listening on every QEMU this object watched (COLO_EXIT listeners, checkpoint
   * watches); the QMP connections themselves belong to the caller and stay open.
   */
  close(): void {
    for (const [q, l] of this.exits) q.removeListener(l);
    this.exits.clear();
    for (const w of this.watches.values()) w.dispose();
    this.watches.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  /** The exact checkpoint detector on the current primary (created on first use). */
  checkpoints(): CheckpointWatch {
    const p = this.need('primary');
    let w = this.watches.get(p);
    if (!w) {
      w = new CheckpointWatch(p, 'primary');
      this.watches.set(p, w);
    }
    return w;
  }

  private watch(q: QMPClient): EventListener {
    let l = this.exits.get(q);
    if (!l) {
      l = q.listen('COLO_EXIT');
      this.exits.set(q, l);
    }
    return l;
  }

  private need(side: ColoSide): QMPClient {
    const q = side === 'primary' ? this.primary : this.secondary;
    if (!q) throw new ColoError(side, 'connect', `no QMP connection to the ${side}`);
    return q;
  }

  async probe(): Promise<void> {
    for (const side of ['secondary', 'primary'] as const) {
      await coloStep(side, 'probe', () => requireFeature(this.need(side), 'QEMU-native COLO', QEMU_COLO));
    }
  }

  /** The secondary, started with -incoming: export every parent disk over NBD. */
  async prepareSecondary(): Promise<void> {
    const s = this.need('secondary');
    const { host, port } = this.opts.nbd;
    const tls = this.opts.tlsCreds ? { 'tls-creds': this.opts.tlsCreds } : {};
    await coloStep('secondary', 'nbd-server-start', () => s.execute('nbd-server-start', { addr: { type: 'inet', data: { host, port: String(port) } }, ...tls }));
    // checked when the migration connection comes in, so setting it after -incoming is in time
    if (this.opts.tlsCreds) await coloStep('secondary', 'migrate-set-parameters', () => s.execute('migrate-set-parameters', tls));
    for (const i of this.opts.disks) {
      await coloStep('secondary', 'nbd-server-add', () => s.execute('nbd-server-add', { device: parentId(i), writable: true }));
    }
  }

  /** The primary's replication nodes, as quorum child 1 of each disk. */
  private async armPrimaryDisks(p: QMPClient): Promise<void> {
    const { host, port } = this.opts.nbd;
    for (const i of this.opts.disks) {
      const out = await coloStep('primary', 'drive_add', () =>
        p.hmp(
          `drive_add -n buddy driver=replication,mode=primary,file.driver=nbd,file.host=${host},file.port=${port},` +
            `file.export=${parentId(i)},${this.opts.tlsCreds ? `file.tls-creds=${this.opts.tlsCreds},` : ''}node-name=${replicationNode(i)}`,
        ),
      );
      if (out.trim() !== '') throw new ColoError('primary', 'drive_add', out.trim());
      await coloStep('primary', 'x-blockdev-change', () => p.execute('x-blockdev-change', { parent: diskId(i), node: replicationNode(i) }));
    }
  }

  /**
   * Starts COLO: migration with x-colo; resolves once the primary has entered COLO, i.e. has
   * started its replication and resumed (RESUME), and the secondary reports COLO mode. Not
   * earlier: query-migrate says "colo" before the primary has its replication running, and a
   * write made in between never reaches the secondary (see checkpoint.ts).
   */
  async start(o: WaitOptions = {}): Promise<number> {
    const p = this.need('primary');
    await this.armPrimaryDisks(p);
    return await this.migrate(p, o);
  }

  private async migrate(p: QMPClient, o: WaitOptions): Promise<number> {
    await coloStep('primary', 'migrate-set-capabilities', () => p.execute('migrate-set-capabilities', { capabilities: [{ capability: 'x-colo', state: true }] }));
    await coloStep('primary', 'migrate-set-parameters', () => p.execute('migrate-set-parameters', { 'x-checkpoint-delay': this.opts.checkpointDelayMs, ...(this.opts.tlsCreds ? { 'tls-creds': this.opts.tlsCreds } : {}) }));
    const watch = this.checkpoints();
    watch.expectEntry();
    const t = performance.now();
    const { host, port } = this.opts.migration;
    await coloStep('primary', 'migrate', () => p.execute('migrate', { uri: `tcp:${formatHostPort({ host, port })}` }));
    const bound = { signal: o.signal, timeoutMs: o.timeoutMs ?? this.opts.entryTimeoutMs ?? DEFAULT_ENTRY_TIMEOUT_MS };
    await coloWait('primary', 'COLO entry', bound, async (signal) => {
      for (;;) {
        const st = await p.execute<{ status?: string; 'error-desc'?: string }>('query-migrate');
        if (st.status === 'colo') break;
        if (st.status === 'failed' || st.status === 'cancelled' || st.status === 'completed') {
          throw new ColoError('primary', 'migrate', `migration ${st.status}${st['error-desc'] ? `: ${st['error-desc']}` : ''} instead of entering COLO`);
        }
        await sleep(5, { signal });
      }
      await watch.entered({ signal });
      // the secondary enters COLO a moment after the primary reports it
      const s = this.secondary;
      while (s && (await this.statusOf('secondary', s)).mode !== 'secondary') await sleep(5, { signal });
    });
    this.log.info('in COLO', { ms: performance.now() - t });
    return performance.now() - t;
  }

  /**
   * Asks for a checkpoint now: setting x-checkpoint-delay wakes QEMU's checkpoint thread (and
   * restarts the period). It does not wait; checkpoint() does.
   */
  async requestCheckpoint(delayMs = this.opts.checkpointDelayMs): Promise<void> {
    const p = this.need('primary');
    await coloStep('primary', 'migrate-set-parameters', () => p.execute('migrate-set-parameters', { 'x-checkpoint-delay': delayMs }));
  }

  /**
   * Requests a checkpoint and resolves when one that began after the request has completed on
   * the primary (the secondary has loaded it): everything written before the call is then in
   * the secondary's view. A checkpoint already under way when the request lands does not count,
   * and may swallow the request (colo.c:colo_do_checkpoint_transaction resets the request event
   * once the vmstate is received), so the request is repeated after it. QEMU 7.2 can lose
   * writes of the first epoch after COLO entry on a later failover: protection counts from here.
   */
  async checkpoint(o: WaitOptions & { delayMs?: number } = {}): Promise<{ ms: number; checkpoint: Checkpoint }> {
    const watch = this.checkpoints();
    const t = performance.now();
    // a primary out of COLO would take the request as a plain parameter and never checkpoint
    const mode = (await this.status('primary')).mode;
    if (mode !== 'primary') throw new ColoError('primary', 'checkpoint', `not a COLO primary (COLO mode ${mode})`);
    const left = (): number | undefined => (o.timeoutMs === undefined ? undefined : Math.max(1, o.timeoutMs - (performance.now() - t)));
    for (;;) {
      await this.requestCheckpoint(o.delayMs);
      // taken after the reply: a STOP counted above it came after QEMU handled the request
      const mark = watch.mark();
      const c = await watch.nextCompleted(watch.completed, { ...o, timeoutMs: left() });
      if (c.stop > mark) return { ms: performance.now() - t, checkpoint: c };
    }
  }

  async status(side: ColoSide): Promise<ColoStatus> {
    const q = this.need(side);
    return await coloStep(side, 'query-colo-status', () => q.execute<ColoStatus>('query-colo-status'));
  }

  /**
   * Ends COLO on the survivor: x-colo-lost-heartbeat, then query-colo-status mode "none". When
   * the peer dies, QEMU sends COLO_EXIT (reason "error") at once but stays in COLO mode until
   * told; that event, possibly from before this connection, is returned when seen.
   */
  private async lostHeartbeat(side: ColoSide, q: QMPClient, o: WaitOptions): Promise<QmpEvent | null> {
    const exit = this.watch(q);
    if ((await this.statusOf(side, q)).mode !== 'none') {
      await coloStep(side, 'x-colo-lost-heartbeat', () => q.execute('x-colo-lost-heartbeat'));
    }
    const bound = { signal: o.signal, timeoutMs: o.timeoutMs ?? this.opts.failoverTimeoutMs ?? DEFAULT_FAILOVER_TIMEOUT_MS };
    await coloWait(side, 'failover (COLO mode "none")', bound, async (signal) => {
      while ((await this.statusOf(side, q)).mode !== 'none') await sleep(5, { signal });
    });
    this.log.info('out of COLO', { side });
    // not waited for: it may trail the mode change, and the survivor is serving already
    return exit.pending > 0 ? await exit.get() : null;
  }

  private statusOf(side: ColoSide, q: QMPClient): Promise<ColoStatus> {
    return coloStep(side, 'query-colo-status', () => q.execute<ColoStatus>('query-colo-status'));
  }

  /** The primary is gone: the secondary stops its NBD server and takes over. */
  async failoverSecondary(o: WaitOptions = {}): Promise<QmpEvent | null> {
    const s = this.need('secondary');
    await coloStep('secondary', 'nbd-server-stop', () => s.execute('nbd-server-stop'));
    const ev = await this.lostHeartbeat('secondary', s, o);
    if (this.opts.nic) {
      // the redirectors towards the dead primary go; the chardevs a primary needs come back later
      for (const id of ['f2', 'f1']) await coloStep('secondary', 'object-del', () => s.execute('object-del', { id }));
      for (const id of ['red1', 'red0']) await coloStep('secondary', 'chardev-remove', () => s.execute('chardev-remove', { id }));
    }
    this.primary = s;
    this.secondary = null;
    this.primaryWasSecondary = true;
    return ev;
  }

  /** The secondary is gone: the primary drops its replication children (and filters) and goes on. */
  async failoverPrimary(o: WaitOptions = {}): Promise<QmpEvent | null> {
    const p = this.need('primary');
    for (const i of this.opts.disks) {
      await coloStep('primary', 'x-blockdev-change', () => p.execute('x-blockdev-change', { parent: diskId(i), child: 'children.1' }));
      await coloStep('primary', 'blockdev-del', () => p.execute('blockdev-del', { 'node-name': replicationNode(i) }));
    }
    if (this.opts.nic) {
      for (const id of ['comp0', 'iothread1', 'm0', 'redire0', 'redire1']) await coloStep('primary', 'object-del', () => p.execute('object-del', { id }));
    }
    const ev = await this.lostHeartbeat('primary', p, o);
    this.secondary = null;
    return ev;
  }

  /**
   * Resumes replication from the surviving VM (now the primary) to a new secondary that is
   * waiting with -incoming and has run prepareSecondary(): resync each disk, pause, re-arm,
   * migrate into COLO again.
   */
  async resume(newSecondary: QMPClient, onProgress?: (p: ResyncProgress) => void, o: WaitOptions = {}): Promise<number> {
    const p = this.need('primary');
    this.secondary = newSecondary;
    this.watch(newSecondary).clear();
    this.watch(p).clear();
    await this.prepareSecondary();
    const mirrors: LevelMirror[] = [];
    for (const i of this.opts.disks) {
      mirrors.push(
        await coloStep('primary', 'resync', () =>
          resyncDisk(p, { devid: i, exportName: diskId(i), host: this.opts.nbd.host, port: this.opts.nbd.port }, {
            onProgress,
            targetExport: parentId(i),
            signal: o.signal,
            timeoutMs: this.opts.resyncTimeoutMs,
          }),
        ),
      );
    }
    await coloStep('primary', 'stop', () => p.execute('stop'));
    for (const m of mirrors) await coloStep('primary', 'block-job-cancel', () => m.finish());
    await this.armPrimaryDisks(p);
    const nic = this.opts.nic;
    if (nic) {
      if (this.primaryWasSecondary) {
        // a former secondary lacks the primary's chardevs: add them as its command line would
        const sock = (id: string, host: string, port: number, server: boolean) => ({
          id,
          backend: { type: 'socket', data: { addr: { type: 'inet', data: { host, port: String(port) } }, server, ...(server ? { wait: false } : {}) } },
        });
        for (const c of [
          sock('mirror0', nic.primaryHost, nic.mirrorPort, true),
          sock('compare1', nic.primaryHost, nic.comparePort, true),
          sock('compare0', '127.0.0.1', nic.compare0Port, true),
          sock('compare0-0', '127.0.0.1', nic.compare0Port, false),
          sock('compare_out', '127.0.0.1', nic.compareOutPort, true),
          sock('compare_out0', '127.0.0.1', nic.compareOutPort, false),
        ]) {
          await coloStep('primary', 'chardev-add', () => p.execute('chardev-add', c));
        }
      }
      for (const o of primaryFilterObjects(this.primaryWasSecondary)) await coloStep('primary', 'object-add', () => p.execute('object-add', o));
    }
    return await this.migrate(p, o);
  }
}
