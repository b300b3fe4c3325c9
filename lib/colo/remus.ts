/**
 * The primary side of `colo-xl remus -c` (xl's main_remus with libxl_colo_save.c's disk part), and
 * the stream both sides speak. Without a hypervisor there is no memory to checkpoint: the stream
 * keeps xl's framing (the receiver banner, xl's save header with the domain configuration, libxl's
 * v2 record headers with CHECKPOINT_END and CHECKPOINT_STATE) and carries no memory records, while
 * the disks are really replicated by the two QEMUs, checkpoint by checkpoint, over QMP.
 */
import type { Readable, Writable } from 'node:stream';
import type { QMPClient } from '../qmp/client.js';
import { Runstate, type QmpAddress } from '../qmp/protocol.js';
import type { DeviceDisk } from '../libxl/types/disk.js';
import { diskDevNumber } from '../libxl/devnum.js';
import { ColoError } from './errors.js';
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

/** `path`, or `tcp:HOST:PORT`, as recorded under coloQmpNode. */
export function parseQmpAddress(s: string): QmpAddress {
  const m = /^tcp:(.+):(\d+)$/.exec(s);
  return m ? { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) } : s;
}

// xl.h: the receiver's first words, and save_file_header's magic and byte-order mark
export const MIGRATE_RECEIVER_BANNER = 'xl migration receiver ready, send binary domain data.\n';
export const SAVEFILE_MAGIC = Buffer.from('Xen saved domain, xl format\n \0 \r', 'latin1');
const SAVEFILE_BYTEORDER = 0x01020304;
export const XL_MANDATORY_FLAG_JSON = 1 << 0;
export const XL_MANDATORY_FLAG_STREAMV2 = 1 << 1;

// libxl_sr_stream_format.h
export const REC_TYPE_END = 0;
export const REC_TYPE_CHECKPOINT_END = 4;
export const REC_TYPE_CHECKPOINT_STATE = 5;
export const CHECKPOINT_NEW = 0;
export const CHECKPOINT_SVM_SUSPENDED = 1;
export const CHECKPOINT_SVM_READY = 2;
export const CHECKPOINT_SVM_RESUMED = 3;

/** libxl's period when no COLO proxy decides (COLO_PROXY_CHECKPOINT_TIMEOUT, 5 s). */
export const COLO_DEFAULT_INTERVAL_MS = 5000;

/** The stream ended (the peer is gone). */
export class StreamEnd extends Error {}

/** Reads exact byte counts from a stream; an end before them is StreamEnd. */
export class ExactReader {
  private chunks: Buffer[] = [];
  private have = 0;
  private ended = false;
  private waiters: Array<() => void> = [];
  /** Resolves once the stream has ended. */
  readonly ended$: Promise<void>;

  constructor(readonly stream: Readable) {
    let endNow = (): void => undefined;
    this.ended$ = new Promise<void>((r) => (endNow = r));
    stream.on('data', (b: Buffer) => {
      this.chunks.push(b);
      this.have += b.length;
      this.poke();
    });
    const end = (): void => {
      this.ended = true;
      endNow();
      this.poke();
    };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
  }

  private poke(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  whenEnded(): Promise<void> {
    return this.ended$;
  }

  async read(n: number, what: string): Promise<Buffer> {
    while (this.have < n) {
      if (this.ended) throw new StreamEnd(`${what}: the stream ended`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
    const all = Buffer.concat(this.chunks);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.have -= n;
    return all.subarray(0, n);
  }
}

// save_domain_core_writeconfig: the header, then the config length and the config as optional data
export function saveHeader(config: Buffer): Buffer {
  const hdr = Buffer.alloc(48);
  SAVEFILE_MAGIC.copy(hdr, 0);
  hdr.writeUInt32LE(SAVEFILE_BYTEORDER, 32);
  hdr.writeUInt32LE(XL_MANDATORY_FLAG_STREAMV2 | (config.length ? XL_MANDATORY_FLAG_JSON : 0), 36);
  hdr.writeUInt32LE(0, 40);
  hdr.writeUInt32LE(4 + config.length, 44);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(config.length);
  return Buffer.concat([hdr, len, config]);
}

export interface SaveHeader {
  mandatoryFlags: number;
  optionalFlags: number;
  optionalDataLen: number;
  config: Buffer;
}

/** The header as create_domain reads it; a string is xl's complaint. */
export async function readSaveHeader(r: ExactReader): Promise<SaveHeader | string> {
  const hdr = await r.read(48, 'header');
  if (!hdr.subarray(0, 32).equals(SAVEFILE_MAGIC)) return 'File has wrong magic number - corrupt or for a different tool?\n';
  if (hdr.readUInt32LE(32) !== SAVEFILE_BYTEORDER) return 'File has wrong byte order\n';
  const optionalDataLen = hdr.readUInt32LE(44);
  const opt = await r.read(optionalDataLen, 'optdata');
  const configLen = opt.length >= 4 ? opt.readUInt32LE(0) : 0;
  if (opt.length > 0 && opt.length < 4 + configLen) return 'Savefile truncated.\n';
  return { mandatoryFlags: hdr.readUInt32LE(36), optionalFlags: hdr.readUInt32LE(40), optionalDataLen, config: opt.subarray(4, 4 + configLen) };
}

/** One libxl v2 record: type, length, body padded to 8 bytes. */
export function record(type: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const pad = (8 - (body.length % 8)) % 8;
  const out = Buffer.alloc(8 + body.length + pad);
  out.writeUInt32LE(type, 0);
  out.writeUInt32LE(body.length, 4);
  body.copy(out, 8);
  return out;
}

export function checkpointState(id: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(id);
  return record(REC_TYPE_CHECKPOINT_STATE, b);
}

export async function readRecord(r: ExactReader): Promise<{ type: number; body: Buffer }> {
  const h = await r.read(8, 'record header');
  const type = h.readUInt32LE(0);
  const len = h.readUInt32LE(4);
  const body = await r.read(len + ((8 - (len % 8)) % 8), 'record body');
  return { type, body: body.subarray(0, len) };
}

// colo_get_checkpoint_state / read_state_cb: a CHECKPOINT_STATE record of the expected id
export async function expectState(r: ExactReader, side: 'primary' | 'secondary', want: number): Promise<void> {
  const rec = await readRecord(r);
  const id = rec.type === REC_TYPE_CHECKPOINT_STATE && rec.body.length >= 4 ? rec.body.readUInt32LE(0) : -1;
  if (id !== want) throw new ColoError(side, 'checkpoint stream', `invalid section: ${id}, expected: ${want}`);
}

/** Writes to the peer; a peer gone (EPIPE, a destroyed pipe) is a StreamEnd. */
export function write(w: Writable, data: Buffer | string): Promise<void> {
  if (w.destroyed || w.writableEnded) return Promise.reject(new StreamEnd('write: the stream is closed'));
  return new Promise((resolve, reject) => w.write(data, (e) => (e ? reject(new StreamEnd(`write: ${e.message}`)) : resolve())));
}

/**
 * colo_qdisk_setup's match (spec §6.3): every vbd must be a complete COLO qdisk, else the whole
 * set-up fails with libxl's message.
 */
export function coloDisksOf(disks: DeviceDisk[], side: 'primary' | 'secondary'): ColoDisk[] {
  if (disks.length === 0) throw new ColoError(side, 'setup', 'the domain has no disk to replicate');
  return disks.map((d) => {
    const devid = diskDevNumber(d.vdev).devid;
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

/** Rejects when the QMP connection goes away (the QEMU died), so waits end at once. */
export function whenDisconnected(qmp: QMPClient): Promise<never> {
  return new Promise<never>((_, reject) => {
    const gone = (): void => reject(new ColoError('primary', 'qmp', 'the primary QEMU went away'));
    if (qmp.runstate !== Runstate.RUNNING) gone();
    qmp.onRunstate((s) => {
      if (s === Runstate.DISCONNECTING || s === Runstate.IDLE) gone();
    });
  });
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
}

/**
 * libxl__colo_save_setup and the save callbacks (spec §6.5), for disks: the initial pass is empty,
 * then each checkpoint is suspend, checkpoint, resume, wait. Returns only when `signal` aborts;
 * any failure (the primary or the secondary gone) throws, after the primary's replication was
 * torn down when its QEMU still answers — the caller then tells which side went.
 */
export async function coloSave(o: ColoSaveOptions): Promise<XenDiskReplication> {
  const p = o.primary;
  const repl = new XenDiskReplication(p, null, o.disks);
  const dead = whenDisconnected(p);
  dead.catch(() => undefined);
  const guard = <T>(x: Promise<T>): Promise<T> => Promise.race([x, dead]);
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
      const ended = await guard(Promise.race([new Promise((r) => setTimeout(() => r(false), o.intervalMs)), o.recv.whenEnded().then(() => true)]));
      if (ended) throw new StreamEnd('the migration receiver closed its stream');
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
  }
}
