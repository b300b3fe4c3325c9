/**
 * The secondary side of COLO: `colo-xl migrate-receive --colo` (xl's migrate_receive with
 * libxl_colo_restore.c's disk part, spec §6.6). The `migrate-receive` command calls
 * migrateReceiveColo when `--colo` is given.
 *
 * Without a hypervisor colo-xl cannot create the domain from the stream: the secondary's QEMU is
 * started beforehand (e.g. `colo-xl colo launch --role secondary`) and known to the local xenstore
 * as the domain `<name>--incoming` (the name xl gives an incoming domain), with its COLO disks'
 * nodes and its QMP socket recorded at /libxl/<domid>/colo-xl/qmp.
 */
import type { Readable, Writable } from 'node:stream';
import { deviceDiskList } from '../libxl/disk.js';
import { libxlCtx, type LibxlCtx } from '../libxl/ctx.js';
import { domainPath, domainType, domainUuid, nameToDomid } from '../libxl/domain.js';
import { ERROR_FAIL, ERROR_INVAL, LibxlError } from '../libxl/errors.js';
import { libxlLineLogger } from '../libxl/log.js';
import { QMPClient } from '../qmp/client.js';
import { QMPError } from '../qmp/errors.js';
import { Runstate } from '../qmp/protocol.js';
import type { XsClient } from '../xenstore/client.js';
import { openXenstore } from '../xenstore/open.js';
import { ColoError } from './errors.js';
import { coloDoCheckpoint, queryXenReplicationStatus, type ColoDisk } from './qdisk.js';
import {
  CHECKPOINT_NEW,
  CHECKPOINT_SVM_READY,
  CHECKPOINT_SVM_RESUMED,
  CHECKPOINT_SVM_SUSPENDED,
  checkpointState,
  ExactReader,
  MIGRATE_RECEIVER_BANNER,
  readRecord,
  readSaveHeader,
  REC_TYPE_CHECKPOINT_END,
  StreamEnd,
  write,
  XL_MANDATORY_FLAG_JSON,
} from '../stream/index.js';
import { parseTcpOrPath } from '../util/host-port.js';
import { coloDisksOf, coloQmpNode, expectState, libxlQmpPath } from './remus.js';
import { XenDiskReplication } from './replication.js';

/** Where xl's messages go (stderr for the CLI). */
export interface ReceiveMessages {
  err(text: string): void;
}

export interface ColoReceiveOptions {
  io: ReceiveMessages;
  env: NodeJS.ProcessEnv;
  /** -d */
  debug: boolean;
  /** --coloft-script: the COLO proxy script (network only; colo-xl replicates disks). */
  coloProxyScript: string | null;
  /** --userspace-colo-proxy */
  userspaceColoProxy: boolean;
  /**
   * The incoming stream and the back channel: xl uses its stdin and stdout (the CLI passes
   * process stdio). The caller owns both; whatever is left of `input` is not read.
   */
  input: Readable;
  output: Writable;
  /** After each checkpoint the secondary completed (n from 1). */
  onCheckpoint?: (n: number) => void;
  /** How to reach xenstore (default: the daemon); the CLI passes its own choice. */
  openXenstore?: () => Promise<XsClient>;
}

// libxl__domain_rename, for the one rename migrate_receive does
export async function domainRename(ctx: LibxlCtx, domid: number, oldName: string, newName: string): Promise<void> {
  const dom = domainPath(domid);
  const current = await ctx.xs.tryRead(`${dom}/name`);
  if (current !== oldName) throw ctx.log.fail(ERROR_INVAL, 'libxl_domain.c:libxl__domain_rename', `domain ${domid} old name mismatch ("${oldName}" != "${current}")`);
  try {
    if ((await nameToDomid(ctx, newName)) !== domid) {
      throw ctx.log.fail(ERROR_INVAL, 'libxl_domain.c:libxl__domain_rename', `domain with name "${newName}" already exists.`);
    }
  } catch (e) {
    if (!(e instanceof LibxlError) || e.rc !== ERROR_INVAL || !/no domain named/.test(e.message)) throw e;
  }
  const uuid = await domainUuid(ctx.xs, domid);
  await ctx.xs.transaction(async (tx) => {
    await tx.write(`${dom}/name`, newName);
    if (uuid) await tx.write(`/vm/${uuid}/name`, newName);
  });
}

interface Secondary {
  domid: number;
  disks: ColoDisk[];
  qmp: string;
}

async function withStore<T>(o: ColoReceiveOptions, fn: (ctx: LibxlCtx) => Promise<T>): Promise<T> {
  const xs = await (o.openXenstore ? o.openXenstore() : openXenstore({ env: o.env }));
  try {
    return await fn(libxlCtx(xs, { logger: libxlLineLogger((l) => o.io.err(l), o.debug ? 'debug' : 'warn') }));
  } finally {
    await xs.close();
  }
}

// what libxl_domain_create_restore would have made: here, the domain started beforehand
async function findSecondary(o: ColoReceiveOptions, incoming: string): Promise<Secondary> {
  return withStore(o, async (ctx) => {
    let domid: number;
    try {
      domid = await nameToDomid(ctx, incoming);
    } catch {
      throw ctx.log.fail(ERROR_FAIL, 'colo-xl:migrate-receive', `no domain "${incoming}" on this host: colo-xl cannot create one without Xen; start the secondary QEMU first and record it (see colo-xl(1), migrate-receive)`);
    }
    if ((await domainType(ctx, domid)) !== 'hvm') {
      throw ctx.log.fail(ERROR_INVAL, 'libxl_create.c:do_domain_create', 'COLO only supports HVM, unable to restore domain', domid);
    }
    let disks: ColoDisk[];
    try {
      disks = coloDisksOf(await deviceDiskList(ctx, domid), 'secondary');
    } catch (e) {
      if (!(e instanceof ColoError)) throw e;
      throw ctx.log.fail(ERROR_FAIL, 'libxl_checkpoint_device.c:device_setup_iterate', e.message.replace(/^COLO secondary: setup: /, ''), domid);
    }
    const qmp = (await ctx.xs.tryRead(coloQmpNode(domid))) ?? libxlQmpPath(domid);
    return { domid, disks, qmp };
  });
}

type Status = 'setuped' | 'suspended' | 'resumed';

/**
 * migrate_receive for COLO. Returns the exit status: 0 after a failover (the primary is gone and
 * this side goes on), 1 when the domain could not be received, 3 when the rename failed.
 */
export async function migrateReceiveColo(o: ColoReceiveOptions): Promise<number> {
  const { io, input, output } = o;
  // if the sender goes away, a write error is a stream end, not a crash
  output.on('error', () => undefined);
  io.err('migration target: Ready to receive domain.\n');
  await write(output, MIGRATE_RECEIVER_BANNER).catch(() => undefined);
  const r = new ExactReader(input);
  const failed = (code: number): number => {
    io.err(`migration target: Domain creation failed (code ${code}).\n`);
    return 1;
  };
  let sec: Secondary;
  let name: string;
  try {
    const hdr = await readSaveHeader(r);
    if (typeof hdr === 'string') {
      io.err(hdr);
      return failed(ERROR_INVAL);
    }
    io.err(`Loading new save file <incoming migration stream> (new xl fmt info 0x${hdr.mandatoryFlags.toString(16)}/0x${hdr.optionalFlags.toString(16)}/${hdr.optionalDataLen})\n`);
    if (hdr.optionalDataLen) io.err(` Savefile contains xl domain config${hdr.mandatoryFlags & XL_MANDATORY_FLAG_JSON ? ' in JSON format' : ''}\n`);
    io.err('Parsing config from <saved>\n');
    const config = JSON.parse(hdr.config.toString('utf8')) as { c_info?: { name?: string } };
    name = config.c_info?.name ?? '';
    if (!name) throw new LibxlError(ERROR_INVAL, 'the saved configuration has no name');
    sec = await findSecondary(o, `${name}--incoming`);
  } catch (e) {
    if (e instanceof StreamEnd || e instanceof SyntaxError) {
      io.err(`colo-xl: migration stream: ${e.message}\n`);
      return failed(ERROR_INVAL);
    }
    if (e instanceof LibxlError) return failed(e.rc);
    throw e;
  }
  const qmp = await QMPClient.open(parseTcpOrPath(sec.qmp), { name: 'secondary', retryMs: 0, timeoutMs: 5000 }).catch((e: Error) => e);
  if (qmp instanceof Error) {
    io.err(`libxl: error: colo-xl: Domain ${sec.domid}:cannot reach the device model at ${sec.qmp}: ${qmp.message}\n`);
    return failed(ERROR_FAIL);
  }
  const repl = new XenDiskReplication(null, qmp, sec.disks);
  let status: Status = 'setuped';
  let checkpoints = 0;
  try {
    try {
      // the initial pass ends; colo_restore's first resume sets the disks up
      const first = await readRecord(r);
      if (first.type !== REC_TYPE_CHECKPOINT_END) throw new ColoError('secondary', 'checkpoint stream', `invalid section: ${first.type}`);
      await repl.probe();
      await repl.setupSecondary();
      await write(output, checkpointState(CHECKPOINT_SVM_READY));
      await qmp.execute('cont');
      status = 'resumed';
      await write(output, checkpointState(CHECKPOINT_SVM_RESUMED));
      for (;;) {
        // colo_restore wait_checkpoint, suspend, checkpoint, resume
        await expectState(r, 'secondary', CHECKPOINT_NEW);
        await qmp.execute('stop');
        status = 'suspended';
        await queryXenReplicationStatus(qmp, 'secondary');
        await write(output, checkpointState(CHECKPOINT_SVM_SUSPENDED));
        const end = await readRecord(r);
        if (end.type !== REC_TYPE_CHECKPOINT_END) throw new ColoError('secondary', 'checkpoint stream', `invalid section: ${end.type}`);
        // libxl says SVM_READY before its xen-colo-do-checkpoint, so the primary may resume
        // writing while the secondary still empties its active and hidden disks: checkpoint first
        await coloDoCheckpoint(qmp, 'secondary');
        await write(output, checkpointState(CHECKPOINT_SVM_READY));
        await qmp.execute('cont');
        status = 'resumed';
        await write(output, checkpointState(CHECKPOINT_SVM_RESUMED));
        o.onCheckpoint?.(++checkpoints);
      }
    } catch (e) {
      // the sender went away (a failed write says the same as a read at the end)
      if (!(e instanceof StreamEnd)) throw e;
    }
    // libxl__colo_restore_teardown with a clean end: failover
    if (status === 'setuped') throw new ColoError('secondary', 'failover', 'migration fails');
    await repl.failoverSecondary();
    if (status === 'suspended') await qmp.execute('cont');
  } catch (e) {
    if (!(e instanceof QMPError || e instanceof ColoError)) throw e;
    const gone = qmp.runstate !== Runstate.RUNNING ? 'the secondary device model went away: ' : '';
    io.err(`libxl: error: libxl_colo_restore.c: Domain ${sec.domid}:${gone}${e.message}\n`);
    return failed(ERROR_FAIL);
  } finally {
    await qmp.disconnect();
  }
  io.err(`migration target: COLO Failover for domain ${sec.domid}\n`);
  const incoming = `${name}--incoming`;
  try {
    await withStore(o, (ctx) => domainRename(ctx, sec.domid, incoming, name));
  } catch (e) {
    if (!(e instanceof LibxlError)) throw e;
    io.err(`migration target (COLO): Failed to rename domain from ${incoming} to ${name}:${e.rc}\n`);
    // exit(rc ? -ERROR_FAIL : 0): the guest runs after a COLO failover, it is not unpaused
    return -ERROR_FAIL;
  }
  return 0;
}
