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
import { CheckpointWatch, type Checkpoint, type WaitOptions } from './checkpoint.js';
import { ColoError, type ColoSide } from './errors.js';
import { diskId, parentId, primaryFilterObjects, replicationNode, type NativeNic } from './native-args.js';
import { resyncDisk, type LevelMirror, type ResyncProgress } from './resync.js';

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
}

export interface ColoStatus {
  mode: 'primary' | 'secondary' | 'none';
  'last-mode'?: string;
  reason: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function on<T>(side: ColoSide, step: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof ColoError) throw e;
    throw new ColoError(side, step, (e as Error).message, { cause: e });
  }
}

export class QemuNativeColo {
  /** Whether the current primary was a secondary before (its filters go before rew0). */
  primaryWasSecondary = false;

  /** COLO_EXIT listeners per QEMU, from the start: the event can come before any failover call. */
  private readonly exits = new Map<QMPClient, EventListener>();
  /** Checkpoint watches per QEMU that has been a primary here (see checkpoint.ts). */
  private readonly watches = new Map<QMPClient, CheckpointWatch>();

  constructor(
    public primary: QMPClient | null,
    public secondary: QMPClient | null,
    readonly opts: NativeColoOptions,
  ) {
    for (const q of [primary, secondary]) if (q) this.watch(q);
    if (primary) this.checkpoints();
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
      await on(side, 'probe', () => requireFeature(this.need(side), 'QEMU-native COLO', QEMU_COLO));
    }
  }

  /** The secondary, started with -incoming: export every parent disk over NBD. */
  async prepareSecondary(): Promise<void> {
    const s = this.need('secondary');
    const { host, port } = this.opts.nbd;
    const tls = this.opts.tlsCreds ? { 'tls-creds': this.opts.tlsCreds } : {};
    await on('secondary', 'nbd-server-start', () => s.execute('nbd-server-start', { addr: { type: 'inet', data: { host, port: String(port) } }, ...tls }));
    // checked when the migration connection comes in, so setting it after -incoming is in time
    if (this.opts.tlsCreds) await on('secondary', 'migrate-set-parameters', () => s.execute('migrate-set-parameters', tls));
    for (const i of this.opts.disks) {
      await on('secondary', 'nbd-server-add', () => s.execute('nbd-server-add', { device: parentId(i), writable: true }));
    }
  }

  /** The primary's replication nodes, as quorum child 1 of each disk. */
  private async armPrimaryDisks(p: QMPClient): Promise<void> {
    const { host, port } = this.opts.nbd;
    for (const i of this.opts.disks) {
      const out = await on('primary', 'drive_add', () =>
        p.hmp(
          `drive_add -n buddy driver=replication,mode=primary,file.driver=nbd,file.host=${host},file.port=${port},` +
            `file.export=${parentId(i)},${this.opts.tlsCreds ? `file.tls-creds=${this.opts.tlsCreds},` : ''}node-name=${replicationNode(i)}`,
        ),
      );
      if (out.trim() !== '') throw new ColoError('primary', 'drive_add', out.trim());
      await on('primary', 'x-blockdev-change', () => p.execute('x-blockdev-change', { parent: diskId(i), node: replicationNode(i) }));
    }
  }

  /**
   * Starts COLO: migration with x-colo; resolves once the primary has entered COLO, i.e. has
   * started its replication and resumed (RESUME), and the secondary reports COLO mode. Not
   * earlier: query-migrate says "colo" before the primary has its replication running, and a
   * write made in between never reaches the secondary (see checkpoint.ts).
   */
  async start(): Promise<number> {
    const p = this.need('primary');
    await this.armPrimaryDisks(p);
    return await this.migrate(p);
  }

  private async migrate(p: QMPClient): Promise<number> {
    await on('primary', 'migrate-set-capabilities', () => p.execute('migrate-set-capabilities', { capabilities: [{ capability: 'x-colo', state: true }] }));
    await on('primary', 'migrate-set-parameters', () => p.execute('migrate-set-parameters', { 'x-checkpoint-delay': this.opts.checkpointDelayMs, ...(this.opts.tlsCreds ? { 'tls-creds': this.opts.tlsCreds } : {}) }));
    const watch = this.checkpoints();
    watch.expectEntry();
    const t = performance.now();
    const { host, port } = this.opts.migration;
    await on('primary', 'migrate', () => p.execute('migrate', { uri: `tcp:${host}:${port}` }));
    for (;;) {
      const st = await p.execute<{ status?: string; 'error-desc'?: string }>('query-migrate');
      if (st.status === 'colo') break;
      if (st.status === 'failed' || st.status === 'cancelled' || st.status === 'completed') {
        throw new ColoError('primary', 'migrate', `migration ${st.status}${st['error-desc'] ? `: ${st['error-desc']}` : ''} instead of entering COLO`);
      }
      if (performance.now() - t > 60_000) throw new ColoError('primary', 'migrate', 'COLO not reached within 60 s');
      await sleep(5);
    }
    await watch.entered({ timeoutMs: Math.max(1, 60_000 - (performance.now() - t)) });
    // the secondary enters COLO a moment after the primary reports it
    const s = this.secondary;
    while (s && (await this.statusOf('secondary', s)).mode !== 'secondary') {
      if (performance.now() - t > 60_000) throw new ColoError('secondary', 'migrate', 'COLO not reached within 60 s');
      await sleep(5);
    }
    return performance.now() - t;
  }

  /**
   * Asks for a checkpoint now: setting x-checkpoint-delay wakes QEMU's checkpoint thread (and
   * restarts the period). It does not wait; checkpoint() does.
   */
  async requestCheckpoint(delayMs = this.opts.checkpointDelayMs): Promise<void> {
    const p = this.need('primary');
    await on('primary', 'migrate-set-parameters', () => p.execute('migrate-set-parameters', { 'x-checkpoint-delay': delayMs }));
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
    return await on(side, 'query-colo-status', () => q.execute<ColoStatus>('query-colo-status'));
  }

  /**
   * Ends COLO on the survivor: x-colo-lost-heartbeat, then query-colo-status mode "none". When
   * the peer dies, QEMU sends COLO_EXIT (reason "error") at once but stays in COLO mode until
   * told; that event, possibly from before this connection, is returned when seen.
   */
  private async lostHeartbeat(side: ColoSide, q: QMPClient): Promise<QmpEvent | null> {
    const exit = this.watch(q);
    if ((await this.statusOf(side, q)).mode !== 'none') {
      await on(side, 'x-colo-lost-heartbeat', () => q.execute('x-colo-lost-heartbeat'));
    }
    const deadline = Date.now() + 30_000;
    while ((await this.statusOf(side, q)).mode !== 'none') {
      if (Date.now() > deadline) throw new ColoError(side, 'failover', 'COLO mode did not return to "none" within 30 s');
      await sleep(5);
    }
    // not waited for: it may trail the mode change, and the survivor is serving already
    return exit.pending > 0 ? await exit.get() : null;
  }

  private statusOf(side: ColoSide, q: QMPClient): Promise<ColoStatus> {
    return on(side, 'query-colo-status', () => q.execute<ColoStatus>('query-colo-status'));
  }

  /** The primary is gone: the secondary stops its NBD server and takes over. */
  async failoverSecondary(): Promise<QmpEvent | null> {
    const s = this.need('secondary');
    await on('secondary', 'nbd-server-stop', () => s.execute('nbd-server-stop'));
    const ev = await this.lostHeartbeat('secondary', s);
    if (this.opts.nic) {
      // the redirectors towards the dead primary go; the chardevs a primary needs come back later
      for (const id of ['f2', 'f1']) await on('secondary', 'object-del', () => s.execute('object-del', { id }));
      for (const id of ['red1', 'red0']) await on('secondary', 'chardev-remove', () => s.execute('chardev-remove', { id }));
    }
    this.primary = s;
    this.secondary = null;
    this.primaryWasSecondary = true;
    return ev;
  }

  /** The secondary is gone: the primary drops its replication children (and filters) and goes on. */
  async failoverPrimary(): Promise<QmpEvent | null> {
    const p = this.need('primary');
    for (const i of this.opts.disks) {
      await on('primary', 'x-blockdev-change', () => p.execute('x-blockdev-change', { parent: diskId(i), child: 'children.1' }));
      await on('primary', 'blockdev-del', () => p.execute('blockdev-del', { 'node-name': replicationNode(i) }));
    }
    if (this.opts.nic) {
      for (const id of ['comp0', 'iothread1', 'm0', 'redire0', 'redire1']) await on('primary', 'object-del', () => p.execute('object-del', { id }));
    }
    const ev = await this.lostHeartbeat('primary', p);
    this.secondary = null;
    return ev;
  }

  /**
   * Resumes replication from the surviving VM (now the primary) to a new secondary that is
   * waiting with -incoming and has run prepareSecondary(): resync each disk, pause, re-arm,
   * migrate into COLO again.
   */
  async resume(newSecondary: QMPClient, onProgress?: (p: ResyncProgress) => void): Promise<number> {
    const p = this.need('primary');
    this.secondary = newSecondary;
    this.watch(newSecondary).clear();
    this.watch(p).clear();
    await this.prepareSecondary();
    const mirrors: LevelMirror[] = [];
    for (const i of this.opts.disks) {
      mirrors.push(
        await on('primary', 'resync', () =>
          resyncDisk(p, { devid: i, exportName: diskId(i), host: this.opts.nbd.host, port: this.opts.nbd.port }, onProgress, 600_000, parentId(i)),
        ),
      );
    }
    await on('primary', 'stop', () => p.execute('stop'));
    for (const m of mirrors) await on('primary', 'block-job-cancel', () => m.finish());
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
          await on('primary', 'chardev-add', () => p.execute('chardev-add', c));
        }
      }
      for (const o of primaryFilterObjects(this.primaryWasSecondary)) await on('primary', 'object-add', () => p.execute('object-add', o));
    }
    return await this.migrate(p);
  }
}
