/**
 * `colo-xl colo launch --role primary|secondary [options] <cfg>`: starts the QEMU side of a COLO
 * domain from its xl.cfg with this project's builders (see lib/colo/launch.ts) and prints where
 * its QMP sockets are, for the other `colo-xl colo` steps. `-N` prints the argv only.
 */
import type { CliContext } from '../command.js';
import { CliUsageError, EXIT_FAILURE, intOption, oneOf, runCommandLine } from '../options.js';
import { reportConfigFailure } from '../config-failure.js';

const HELP = `Usage: colo-xl [-N] colo launch --role <primary|secondary> [options] <cfg>

Start the QEMU side of a COLO domain from its xl.cfg, as libxl would start its device model, and
print its pid and QMP socket. With the global -N, print the QEMU argv instead.

      --role <primary|secondary>   which side this QEMU is
      --domid <N>                  the domain id (1..32751, default 1)
      --run-dir <dir>              QMP sockets and the log (default /var/run/xen)
      --accel <kvm|tcg>            default: kvm when /dev/kvm works
      --json                       {"kind":"launched","role":...,"pid":...,"qmp":...,"log":...}
  -h, --help                       print this help
`;

const OPTIONS = {
  role: { type: 'string' },
  domid: { type: 'string' },
  'run-dir': { type: 'string' },
  accel: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export async function runLaunch(ctx: CliContext, argv: string[]): Promise<number> {
  return runCommandLine(ctx, { name: 'colo launch', help: HELP, options: OPTIONS }, argv, async ({ values: v, positionals }, out) => {
    const role = oneOf(v.role, 'role', ['primary', 'secondary'] as const);
    const domid = intOption(v.domid, 'domid', 1, 1, 32751);
    if (v['run-dir'] === '') throw new CliUsageError('--run-dir needs a directory');
    if (positionals.length !== 1) throw new CliUsageError('one config file is needed');
    const { launchArgv, launchQemu } = await import('../../lib/colo/launch.js');
    const { pickAccel } = await import('../../lib/qemu/process.js');
    const file = positionals[0]!;
    const accel = oneOf(v.accel, 'accel', ['kvm', 'tcg'] as const, pickAccel());
    const opts = { role, domid, runDir: v['run-dir'] ?? '/var/run/xen', accel, err: (t: string) => ctx.io.err(t) };
    try {
      if (ctx.dryRun) {
        ctx.io.out(launchArgv(file, opts).map((x) => x + '\n').join(''));
        return 0;
      }
      const l = launchQemu(file, opts);
      out.emit('launched', { role, domid, pid: l.pid, qmp: l.qmpPath, log: l.logPath, argv: l.argv }, `${role} QEMU started: pid ${l.pid}, QMP ${l.qmpPath}, log ${l.logPath}`);
      return 0;
    } catch (e) {
      if (reportConfigFailure(ctx, file, e)) return EXIT_FAILURE;
      throw e;
    }
  });
}
