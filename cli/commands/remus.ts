/**
 * `colo-xl remus`: xl's main_remus (tools/xl/xl_migrate.c), options and checks byte for byte. Only
 * COLO (`-c`) goes further here: its disk replication runs between the domain's QEMU and the one
 * `migrate-receive --colo` finds on the other side. Memory checkpoints need Xen, so plain Remus
 * (and COLO's memory and network part) is refused after xl's checks.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { DeviceDisk } from '../../lib/libxl/types/disk.js';
import { atoi } from '../../lib/util/cstr.js';
import type { CliContext, Command } from '../command.js';
import { xlGetopt, type XlHelp } from '../getopt.js';

export const remusHelp: XlHelp = {
  name: 'remus',
  summary: 'Enable Remus HA for domain',
  usage: '[options] <Domain> [<host>]',
  modifies: true,
  options: [
    '-i MS                   Checkpoint domain memory every MS milliseconds (def. 200ms).',
    '-u                      Disable memory checkpoint compression.',
    '-s <sshcommand>         Use <sshcommand> instead of ssh.  String will be passed',
    '                        to sh. If empty, run <host> instead of ',
    '                        ssh <host> xl migrate-receive -r [-e]',
    '-e                      Do not wait in the background (on <host>) for the death',
    '                        of the domain.',
    '-N <netbufscript>       Use netbufscript to setup network buffering instead of the',
    '                        default script (/etc/xen/scripts/remus-netbuf-setup).',
    '-F                      Enable unsafe configurations [-b|-n|-d flags]. Use this option',
    '                        with caution as failover may not work as intended.',
    '-b                      Replicate memory checkpoints to /dev/null (blackhole).',
    '                        Works only in unsafe mode.',
    '-n                      Disable network output buffering. Works only in unsafe mode.',
    '-d                      Disable disk replication. Works only in unsafe mode.',
    '-c                      Enable COLO HA. It is conflict with -i and -b, and memory',
    '                        checkpoint must be disabled.',
    '-p                      Use COLO userspace proxy.',
  ].join('\n'),
};

/** perror's suffix: xl 4.17 reaches these checks with errno ENOENT left over from its start-up. */
const ERRNO_TEXT = 'No such file or directory';

/** libxl_domain_remus_info as main_remus fills it; null is libxl_defbool's "default". */
export interface RemusInfo {
  interval: number;
  allowUnsafe: boolean | null;
  blackhole: boolean | null;
  compression: boolean | null;
  netbuf: boolean | null;
  netbufscript: string | null;
  diskbuf: boolean | null;
  colo: boolean | null;
  userspaceColoProxy: boolean | null;
}

/** colo.default.proxyscript from xl.conf (default_colo_proxy_script), if set. */
function defaultColoProxyScript(path = '/etc/xen/xl.conf'): string | null {
  if (!existsSync(path)) return null;
  const m = /^[ \t]*colo\.default\.proxyscript[ \t]*=[ \t]*"([^"]*)"/m.exec(readFileSync(path, 'utf8'));
  return m ? m[1]! : null;
}

async function run(cli: CliContext, argv: string[]): Promise<number> {
  const { io } = cli;
  const parsed = xlGetopt(io, argv, 'Fbundi:s:N:ecp', [], remusHelp, 2);
  if (typeof parsed === 'number') return parsed;
  const r: RemusInfo = {
    interval: 0,
    allowUnsafe: null,
    blackhole: null,
    compression: null,
    netbuf: null,
    netbufscript: null,
    diskbuf: null,
    colo: null,
    userspaceColoProxy: null,
  };
  let ssh = 'ssh';
  let daemonize = true;
  for (const { opt, arg } of parsed.options) {
    if (opt === 'i') r.interval = atoi(arg!);
    else if (opt === 'F') r.allowUnsafe = true;
    else if (opt === 'b') r.blackhole = true;
    else if (opt === 'u') r.compression = false;
    else if (opt === 'n') r.netbuf = false;
    else if (opt === 'N') r.netbufscript = arg!;
    else if (opt === 'd') r.diskbuf = false;
    else if (opt === 's') ssh = arg!;
    else if (opt === 'e') daemonize = false;
    else if (opt === 'c') r.colo = true;
    else if (opt === 'p') r.userspaceColoProxy = true;
  }
  const [qualifier, host] = parsed.rest as [string, string];

  // find_domain comes before every check
  const domid = await findDomain(cli, qualifier);
  if (typeof domid === 'string') {
    io.err(domid);
    return 1;
  }
  r.blackhole ??= false;
  r.colo ??= false;
  r.userspaceColoProxy ??= false;
  if (!r.colo && !r.interval) r.interval = 200;
  if (r.userspaceColoProxy && !r.colo) {
    io.err('Option -p must be used in conjunction with -c');
    return 255;
  }
  if (r.colo) {
    if (r.interval || r.blackhole || r.netbuf !== null || r.diskbuf !== null) {
      io.err(`option -c is conflict with -i, -d, -n or -b: ${ERRNO_TEXT}\n`);
      return 255;
    }
    if (r.compression === null) {
      io.err(`COLO can't be used with memory compression. Disable memory checkpoint compression now...: ${ERRNO_TEXT}\n`);
      r.compression = false;
    }
  }
  if (!r.colo) {
    io.err('colo-xl: Remus checkpoints the memory of a Xen domain and needs a Xen hypervisor; colo-xl replicates disks with -c (COLO) only\n');
    return 1;
  }
  r.netbufscript ??= defaultColoProxyScript();
  return startColoRemus(cli, { domid, host, ssh, daemonize, info: r });
}

// find_domain (xl_utils.c): a name is looked up in xenstore, digits are taken as they are
async function findDomain(cli: CliContext, q: string): Promise<number | string> {
  if (/^[0-9]*$/.test(q)) return q === '' ? 0 : Number(BigInt.asUintN(32, BigInt(q)));
  const [{ withLibxl }, { domainQualifierToDomid }, { LibxlError }] = await Promise.all([
    import('../libxl-session.js'),
    import('../../lib/libxl/domain.js'),
    import('../../lib/libxl/errors.js'),
  ]);
  return withLibxl(cli, async (ctx) => {
    try {
      return await domainQualifierToDomid(ctx, q);
    } catch (e) {
      return `${q} is an invalid domain identifier (rc=${e instanceof LibxlError ? e.rc : -6})\n`;
    }
  });
}

interface StartArgs {
  domid: number;
  host: string;
  ssh: string;
  daemonize: boolean;
  info: RemusInfo;
}

interface PrimaryFacts {
  config: Buffer;
  type: string;
  disks: DeviceDisk[];
  qmp: string;
}

/** The COLO environment variable that sets the checkpoint period (xl has no option for it). */
export const INTERVAL_ENV = 'COLO_XL_COLO_INTERVAL_MS';

// main_remus from save_domain_core_begin on, with libxl_domain_remus_start's COLO disk part
async function startColoRemus(cli: CliContext, a: StartArgs): Promise<number> {
  const { io } = cli;
  const [{ withLibxl }, dom, { deviceDiskList }, lib, { QMPClient }, { LibxlError, ERROR_FAIL, ERROR_GUEST_TIMEDOUT }, { ColoError }, { QMPError }, { libxlLog, libxlLineLogger }, stream, { parseTcpOrPath }] = await Promise.all([
    import('../libxl-session.js'),
    import('../../lib/libxl/domain.js'),
    import('../../lib/libxl/disk.js'),
    import('../../lib/colo/remus.js'),
    import('../../lib/qmp/client.js'),
    import('../../lib/libxl/errors.js'),
    import('../../lib/colo/errors.js'),
    import('../../lib/qmp/errors.js'),
    import('../../lib/libxl/log.js'),
    import('../../lib/stream/index.js'),
    import('../../lib/util/host-port.js'),
  ]);
  const facts = await withLibxl(cli, async (ctx): Promise<PrimaryFacts | null> => {
    let config: Record<string, unknown>;
    try {
      config = await dom.getDomainConfiguration(ctx, a.domid);
    } catch (e) {
      if (e instanceof LibxlError) return null;
      throw e;
    }
    const type = await dom.domainType(ctx, a.domid).catch(() => 'pv');
    const disks = await deviceDiskList(ctx, a.domid).catch(() => []);
    const qmp = (await ctx.xs.tryRead(lib.coloQmpNode(a.domid))) ?? lib.libxlQmpPath(a.domid);
    return { config: Buffer.from(JSON.stringify(config)), type, disks, qmp };
  });
  if (!facts) {
    io.err('No config file stored for running domain and none supplied - cannot start remus.\n');
    return 1;
  }
  const addr = parseTcpOrPath(facts.qmp);
  const primary = await QMPClient.open(addr, { name: 'primary', retryMs: 0, timeoutMs: 5000 }).catch((e: Error) => e);
  if (primary instanceof Error) {
    io.err(`colo-xl: cannot reach the device model of domain ${a.domid} at ${facts.qmp}: ${primary.message}\n`);
    return 1;
  }
  const rune = lib.remusRune({
    ssh: a.ssh,
    host: a.host,
    command: 'colo-xl',
    colo: true,
    netbufscript: a.info.netbufscript,
    userspaceColoProxy: a.info.userspaceColoProxy === true,
    daemonize: a.daemonize,
  });
  // create_migration_child
  const child = spawn('sh', ['-c', rune], { stdio: ['pipe', 'pipe', 'inherit'], env: cli.env });
  child.stdin.on('error', () => undefined);
  // a shell that cannot start shows up as a stream that ends before the banner
  child.on('error', () => undefined);
  const recv = new stream.ExactReader(child.stdout);
  const log = libxlLog(libxlLineLogger((l) => io.err(l), cli.verbose > 0 ? 'debug' : 'warn'));
  const release = (): void => {
    child.stdin.destroy();
    child.stdout.destroy();
    child.unref();
  };
  let rc = 0;
  try {
    // migrate_do_preamble
    const banner = Buffer.from(stream.MIGRATE_RECEIVER_BANNER);
    try {
      const got = await recv.read(banner.length, 'banner');
      if (!got.equals(banner)) {
        io.err(`migration receiver stream contained unexpected data instead of banner\n(command run was: ${rune} )\n`);
        return 1;
      }
    } catch {
      log.log('error', 'libxl_utils.c:libxl_read_exactly', 'file/stream truncated reading banner from migration receiver stream');
      return 1;
    }
    const header = stream.saveHeader(facts.config);
    await stream.write(child.stdin, header).catch(() => undefined);
    io.err(`Saving to migration stream new xl format (info 0x${header.readUInt32LE(36).toString(16)}/0x0/${header.readUInt32LE(44)})\n`);
    // libxl__colo_save_setup
    try {
      if (facts.type !== 'hvm') throw log.fail(ERROR_FAIL, 'libxl_colo_save.c:libxl__colo_save_setup', 'COLO only supports hvm now', a.domid);
      let disks;
      try {
        disks = lib.coloDisksOf(facts.disks, 'primary');
      } catch (e) {
        if (!(e instanceof ColoError)) throw e;
        throw log.fail(ERROR_FAIL, 'libxl_colo_save.c:colo_setup_checkpoint_devices_done', `COLO: failed to setup device for guest: ${e.message.replace(/^COLO primary: setup: /, '')}`, a.domid);
      }
      const env = Number(cli.env[INTERVAL_ENV]);
      await lib.coloSave({
        primary,
        disks,
        send: child.stdin,
        recv,
        intervalMs: Number.isFinite(env) && env > 0 ? env : lib.COLO_DEFAULT_INTERVAL_MS,
        onCheckpoint: (n, ms) => {
          if (cli.verbose > 0) io.err(`colo-xl: COLO: checkpoint ${n} done in ${ms.toFixed(1)} ms\n`);
        },
      });
    } catch (e) {
      if (e instanceof LibxlError) rc = e.rc;
      else if (e instanceof QMPError || e instanceof ColoError) log.log('error', 'libxl_colo_save.c', e.message, a.domid);
      else if (e instanceof stream.StreamEnd) log.log('error', 'libxl_colo_save.c', `COLO: ${e.message}`, a.domid);
      else throw e;
    }
  } finally {
    await primary.disconnect();
    release();
  }
  // check if the domain exists: destroying the primary is how a user forces failover
  const alive = await QMPClient.open(addr, { name: 'primary', retryMs: 0, timeoutMs: 2000 }).then(
    (q) => q.disconnect().then(() => true),
    () => false,
  );
  if (!alive) {
    io.err('COLO: Primary domain has been destroyed.\n');
    return 0;
  }
  if (rc === ERROR_GUEST_TIMEDOUT) io.err('Failed to suspend domain at primary.\n');
  else io.err('COLO: Backup failed? resuming domain at primary.\n');
  return 1;
}

export const remus: Command = {
  name: 'remus',
  usage: remusHelp.usage,
  summary: 'COLO disk replication of a domain to <host> (xl remus -c; no memory checkpoints without Xen)',
  help: remusHelp,
  run,
};
