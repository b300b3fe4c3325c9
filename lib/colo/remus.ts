/**
 * The primary side of `colo-xl remus -c` (xl's main_remus with libxl_colo_save.c's disk part),
 * over the save stream of lib/stream, and what both sides share. Without a hypervisor there is no memory to checkpoint: the stream
 * keeps xl's framing (the receiver banner, xl's save header with the domain configuration, libxl's
 * v2 record headers with CHECKPOINT_END and CHECKPOINT_STATE) and carries no memory records, while
 * the disks are really replicated by the two QEMUs, checkpoint by checkpoint, over QMP.
 */
import type { Writable } from 'node:stream';
import type { QMPClient } from '../qmp/client.js';
import { Runstate } from '../qmp/protocol.js';
import type { DeviceDisk } from '../libxl/types/disk.js';
import { deviceDiskDevNumber } from '../libxl/devnum.js';
import {
  CHECKPOINT_NEW,
  CHECKPOINT_SVM_READY,
  CHECKPOINT_SVM_RESUMED,
  CHECKPOINT_SVM_SUSPENDED,
  checkpointState,
  readRecord,
  record,
  REC_TYPE_CHECKPOINT_END,
  REC_TYPE_CHECKPOINT_STATE,
  StreamEnd,
  write,
  type ExactReader,
} from '../stream/index.js';
import type { Logger } from '../util/log.js';
import { sleep } from '../util/wait.js';
import { ColoError, type ColoSide } from './errors.js';
import { coloDoCheckpoint, queryXenReplicationStatus, type ColoDisk } from './qdisk.js';
import { XenDiskReplication } from './replication.js';

/** Where colo-xl records a domain's QMP socket (libxl has no such node: it derives the path). */
export function coloQmpNode(domid: number): string {
  return `/libxl/${domid}/colo-xl/qmp`;
}

/** libxl's own QMP socket for a domain's device model, used when colo-xl recorded none. */
export function libxlQmpPath(domid: number): string {
  return `/var/run/xen/qmp-libxl-${domid}`;
}

// colo_get_checkpoint_state / read_state_cb: a CHECKPOINT_STATE record of the expected id
export async function expectState(r: ExactReader, side: ColoSide, want: number): Promise<void> {
  const rec = await readRecord(r);
  const id = rec.type === REC_TYPE_CHECKPOINT_STATE && rec.body.length >= 4 ? rec.body.readUInt32LE(0) : -1;
  if (id !== want) throw new ColoError(side, 'checkpoint stream', `invalid section: ${id}, expected: ${want}`);
}

/** libxl's period when no COLO proxy decides (COLO_PROXY_CHECKPOINT_TIMEOUT, 5 s). */
export const COLO_DEFAULT_INTERVAL_MS = 5000;

/**
 * colo_qdisk_setup's match (spec §6.3): every vbd must be a complete COLO qdisk, else the whole
 * set-up fails with libxl's message.
 */
export function coloDisksOf(disks: DeviceDisk[], side: 'primary' | 'secondary'): ColoDisk[] {
  if (disks.length === 0) throw new ColoError(side, 'setup', 'the domain has no disk to replicate');
  return disks.map((d) => {
    const devid = deviceDiskDevNumber(d.vdev).devid;
    const ok = d.backend === 'qdisk' && d.colo_enable === true && d.colo_host && d.colo_export && d.active_disk && d.hidden_disk && d.colo_port > 0;
    if (!ok) throw new ColoError(side, 'setup', `device not handled by checkpoint (device=vbd:${d.backend_domid}/${devid})`);
    return { devid, exportName: d.colo_export!, host: d.colo_host!, port: d.colo_port };
  });
}

export interface RemusRuneOptions {
  ssh: string;
  host: string;
  /** The receiver's command name: xl's rune says `xl`. */
  command: string;
  colo: boolean;
  netbufscript: string | null;
  userspaceColoProxy: boolean;
  daemonize: boolean;
}

// main_remus's rune, with its empty placeholders (they leave runs of spaces, as xl does)
export function remusRune(o: RemusRuneOptions): string {
  if (o.ssh === '') return o.host;
  const e = o.daemonize ? '' : ' -e';
  if (!o.colo) return `exec ${o.ssh} ${o.host} ${o.command} migrate-receive -r ${e}`;
  const script = o.netbufscript ?? '';
  return (
    `exec ${o.ssh} ${o.host} ${o.command} migrate-receive --colo ${o.netbufscript !== null ? '--coloft-script' : ''} ${script} ` +
    `${o.userspaceColoProxy ? '--userspace-colo-proxy' : ''} ${e}`
  );
}

/**
 * A promise that rejects when the QMP connection goes away (the QEMU died), so waits raced
 * against it end at once; `stop()` unsubscribes (one subscription per call, released by it).
 */
export function whenDisconnected(qmp: QMPClient, side: ColoSide = 'primary'): { gone: Promise<never>; stop: () => void } {
  let stop = (): void => undefined;
  const gone = new Promise<never>((_, reject) => {
    const fail = (): void => reject(new ColoError(side, 'qmp', `the ${side} QEMU went away`));
    if (qmp.runstate !== Runstate.RUNNING) return fail();
    stop = qmp.onRunstate((s) => {
      if (s === Runstate.DISCONNECTING || s === Runstate.IDLE) fail();
    });
  });
  gone.catch(() => undefined);
  return { gone, stop: () => stop() };
}

export interface ColoSaveOptions {
  primary: QMPClient;
  disks: ColoDisk[];
  send: Writable;
  recv: ExactReader;
  intervalMs: number;
  /** After each completed checkpoint (n from 1), with its time. */
  onCheckpoint?: (n: number, ms: number) => void;
  /** Ends the loop (for library callers); the CLI runs until something fails. */
  signal?: AbortSignal;
  /** Diagnostics: each replication step and its time. */
  logger?: Logger;
}

/**
 * libxl__colo_save_setup and the save callbacks (spec §6.5), for disks: the initial pass is empty,
 * then each checkpoint is suspend, checkpoint, resume, wait. Returns only when `signal` aborts;
 * any failure (the primary or the secondary gone) throws, after the primary's replication was
 * torn down when its QEMU still answers — the caller then tells which side went.
 */
export async function coloSave(o: ColoSaveOptions): Promise<XenDiskReplication> {
  const p = o.primary;
  const repl = new XenDiskReplication(p, null, o.disks, { logger: o.logger });
  const dead = whenDisconnected(p);
  const guard = <T>(x: Promise<T>): Promise<T> => Promise.race([x, dead.gone]);
  try {
    // the initial "live migration" pass: no memory to send, only its end
    await write(o.send, record(REC_TYPE_CHECKPOINT_END));
    // colo_preresume_cb, first time: the NBD child joins the quorum, then replication starts
    await guard(expectState(o.recv, 'primary', CHECKPOINT_SVM_READY));
    repl.assume('secondary-ready');
    await guard(repl.setupPrimary());
    await guard(p.execute('cont'));
    await guard(expectState(o.recv, 'primary', CHECKPOINT_SVM_RESUMED));
    for (let n = 1; !o.signal?.aborted; n++) {
      // colo_proxy_checkpoint without a proxy: a periodic checkpoint
      const next = await guard(nextPeriod(o.intervalMs, o.recv, o.signal));
      if (next === 'aborted') break;
      if (next === 'ended') throw new StreamEnd('the migration receiver closed its stream');
      const t = performance.now();
      await write(o.send, checkpointState(CHECKPOINT_NEW));
      // colo_suspend_primary_vm_done / colo_read_svm_suspended_done
      await guard(p.execute('stop'));
      await guard(expectState(o.recv, 'primary', CHECKPOINT_SVM_SUSPENDED));
      await guard(queryXenReplicationStatus(p, 'primary'));
      await write(o.send, record(REC_TYPE_CHECKPOINT_END));
      // colo_read_svm_ready_done, colo_preresume_cb, colo_resume_vm
      await guard(expectState(o.recv, 'primary', CHECKPOINT_SVM_READY));
      await guard(coloDoCheckpoint(p, 'primary'));
      await guard(p.execute('cont'));
      await guard(expectState(o.recv, 'primary', CHECKPOINT_SVM_RESUMED));
      o.onCheckpoint?.(n, performance.now() - t);
    }
    return repl;
  } catch (e) {
    // libxl__colo_save_teardown: when the primary still answers, it goes on alone
    if (p.runstate === Runstate.RUNNING) {
      await repl.failoverPrimary().catch(() => undefined);
      await p.execute('cont').catch(() => undefined);
    }
    throw e;
  } finally {
    dead.stop();
  }
}

/** The wait between two checkpoints: the period passes, the receiver's stream ends, or `signal` fires. */
async function nextPeriod(ms: number, recv: ExactReader, signal: AbortSignal | undefined): Promise<'tick' | 'ended' | 'aborted'> {
  const local = new AbortController();
  const both = signal ? AbortSignal.any([signal, local.signal]) : local.signal;
  try {
    return await Promise.race([
      sleep(ms, { signal: both }).then(
        () => 'tick' as const,
        () => 'aborted' as const,
      ),
      recv.whenEnded().then(() => 'ended' as const),
    ]);
  } finally {
    // the loser's timer goes with the wait
    local.abort();
  }
}
