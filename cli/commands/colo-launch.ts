/**
 * `colo-xl colo launch --role primary|secondary [options] <cfg>`: starts the QEMU side of a COLO
 * domain from its xl.cfg with this project's builders (see lib/colo/launch.ts) and prints where
 * its QMP sockets are, for the other `colo-xl colo` steps. `-N` prints the argv only.
 */
import type { CliContext } from '../command.js';
import { launchArgv, launchQemu, type ColoRole } from '../../lib/colo/launch.js';
import { pickAccel } from '../../lib/qemu/process.js';
import { XlExit } from '../../lib/xl/parse.js';
import { LibxlError } from '../../lib/libxl/errors.js';
import { QemuOptionError } from '../../lib/libxl/dm/qemu-opts.js';

const USAGE = `Usage: colo-xl colo launch --role <primary|secondary> [--domid N] [--run-dir DIR] [--accel kvm|tcg] [--json] <cfg>\n`;

export async function runLaunch(ctx: CliContext, argv: string[]): Promise<number> {
  let role: ColoRole | null = null;
  let domid = 1;
  let runDir = '/var/run/xen';
  let accel = pickAccel();
  let json = false;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = (): string | undefined => argv[++i];
    if (a === '--role') {
      const r = v();
      if (r !== 'primary' && r !== 'secondary') return usage(ctx, `bad --role '${r ?? ''}': primary or secondary`);
      role = r;
    } else if (a === '--domid') {
      domid = Number(v());
      if (!Number.isInteger(domid) || domid < 1 || domid > 32751) return usage(ctx, 'bad --domid: 1..32751');
    } else if (a === '--run-dir') {
      const d = v();
      if (!d) return usage(ctx, '--run-dir needs a directory');
      runDir = d;
    } else if (a === '--accel') {
      const x = v();
      if (x !== 'kvm' && x !== 'tcg') return usage(ctx, `bad --accel '${x ?? ''}': kvm or tcg`);
      accel = x;
    } else if (a === '--json') json = true;
    else if (a.startsWith('-')) return usage(ctx, `unknown option ${a}`);
    else files.push(a);
  }
  if (role === null) return usage(ctx, '--role is needed');
  if (files.length !== 1) return usage(ctx, 'one config file is needed');
  const file = files[0]!;
  const opts = { role, domid, runDir, accel, err: (t: string) => ctx.io.err(t) };
  try {
    if (ctx.dryRun) {
      ctx.io.out(launchArgv(file, opts).map((x) => x + '\n').join(''));
      return 0;
    }
    const l = launchQemu(file, opts);
    if (json) ctx.io.out(JSON.stringify({ role, domid, pid: l.pid, qmp: l.qmpPath, log: l.logPath, argv: l.argv }) + '\n');
    else ctx.io.out(`${role} QEMU started: pid ${l.pid}, QMP ${l.qmpPath}, log ${l.logPath}\n`);
    return 0;
  } catch (e) {
    if (e instanceof XlExit) return e.status;
    if (e instanceof LibxlError || e instanceof QemuOptionError) {
      ctx.io.err(`libxl: error: ${e.message}\n`);
      return 1;
    }
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      ctx.io.err(`Failed to read config file: ${file}: ${(e as Error).message}\n`);
      return 3;
    }
    throw e;
  }
}

function usage(ctx: CliContext, why: string): number {
  ctx.io.err(`colo-xl colo launch: ${why}\n${USAGE}`);
  return 2;
}
