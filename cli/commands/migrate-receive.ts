/**
 * `colo-xl migrate-receive [options]`: the destination end of `colo-xl migrate`, run by it over
 * ssh (as xl runs `xl migrate-receive`). The control channel is stdin/stdout; diagnostics go to
 * stderr. The domain's QEMU is left running on success, with its QMP socket in --run-dir.
 */
import type { Command, CliContext } from '../command.js';
import { xlGetopt, type XlHelp } from '../getopt.js';
import { detachedLauncher } from '../../lib/migrate/launch.js';
import { migrateReceive } from '../../lib/migrate/receive.js';
import { loggerFrom } from '../../lib/util/log.js';

const help: XlHelp = {
  name: 'migrate-receive',
  summary: 'Receive a domain and its local disks (run by colo-xl migrate)',
  usage: '[options]',
  options:
    '--disk-dir <dir>    Create the disk images in <dir> (default: the source\'s paths).\n' +
    '--run-dir <dir>     QMP socket and QEMU log directory (default /var/run/xen).\n' +
    '--tls-dir <dir>     x509 files of the server end when the source asks for TLS.',
};

const LONG = [
  { name: 'disk-dir', val: 'D', hasArg: true },
  { name: 'run-dir', val: 'R', hasArg: true },
  { name: 'tls-dir', val: 'T', hasArg: true },
];

/**
 * The receiving end of `colo-xl migrate` takes no options or only its own. Anything else is xl's
 * migrate-receive (its options, checks and help, and `--colo` for `remus -c`).
 */
function isMirrorReceive(argv: string[]): boolean {
  return argv.every((a, i) => /^--(disk-dir|run-dir|tls-dir)(=|$)/.test(a) || /^--(disk-dir|run-dir|tls-dir)$/.test(argv[i - 1] ?? ''));
}

async function run(ctx: CliContext, argv: string[]): Promise<number> {
  if (!isMirrorReceive(argv)) return (await import('./migrate-receive-colo.js')).runMigrateReceive(ctx, argv);
  const parsed = xlGetopt(ctx.io, argv, '', LONG, help, 0);
  if (typeof parsed === 'number') return parsed;
  let diskDir: string | undefined;
  let runDir = '/var/run/xen';
  let tlsDir: string | undefined;
  for (const { opt, arg } of parsed.options) {
    if (opt === 'D') diskDir = arg!;
    else if (opt === 'R') runDir = arg!;
    else if (opt === 'T') tlsDir = arg!;
  }
  const r = await migrateReceive(process.stdin, (l) => ctx.io.out(l), {
    runDir,
    diskDir,
    tlsDir,
    launch: detachedLauncher,
    logger: loggerFrom((_level, l) => ctx.io.err(`migrate-receive: ${l}\n`)),
  });
  process.stdin.destroy();
  if (r.outcome === 'running') {
    ctx.io.err(`migrate-receive: domain running: QEMU pid ${r.pid}, QMP ${r.qmpPath}\n`);
    return 0;
  }
  ctx.io.err(`migrate-receive: migration aborted: ${r.reason ?? 'unknown reason'}\n`);
  return 1;
}

export const migrateReceiveCommand: Command = { name: 'migrate-receive', usage: help.usage, summary: help.summary, help, run };
