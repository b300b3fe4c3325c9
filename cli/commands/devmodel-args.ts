import type { CliContext, Command } from '../command.js';

const USAGE = `Usage: colo-xl devmodel-args [--domid N] [--restore none|remus|colo] [--monitor-fd N] [--state-fd N] <ConfigFile>

Print, one argument per line, the command line libxl (Xen 4.17) would start the guest's qemu-xen
device model with: libxl_domain_create_new, or libxl_domain_create_restore with the given
checkpointed stream (colo makes COLO disks secondaries). --monitor-fd gives the pre-opened QMP
socket form (with -S), --state-fd adds -incoming fd:N. Disk paths are checked with stat(2) to
choose each disk's backend, as libxl does.
`;

interface Args {
  domid: number;
  restore: 'none' | 'remus' | 'colo' | null;
  monitorFd?: number;
  stateFd?: number;
  file: string;
}

function parse(ctx: CliContext, argv: string[]): Args | number {
  const a: Partial<Args> & { domid: number; restore: Args['restore'] } = { domid: 1, restore: null };
  const num = (v: string | undefined, what: string): number | null => {
    if (v === undefined || !/^\d+$/.test(v)) {
      ctx.io.err(`colo-xl devmodel-args: ${what} needs a non-negative integer\n`);
      return null;
    }
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    const [flag, inline] = w.startsWith('--') ? (w.split(/=(.*)/s, 2) as [string, string | undefined]) : [w, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    if (flag === '-h' || flag === '--help') {
      ctx.io.out(USAGE);
      return 0;
    } else if (flag === '--domid') {
      const n = num(value(), '--domid');
      if (n === null) return 2;
      a.domid = n;
    } else if (flag === '--restore') {
      const v = value();
      if (v !== 'none' && v !== 'remus' && v !== 'colo') {
        ctx.io.err('colo-xl devmodel-args: --restore takes none, remus or colo\n');
        return 2;
      }
      a.restore = v;
    } else if (flag === '--monitor-fd' || flag === '--state-fd') {
      const n = num(value(), flag);
      if (n === null) return 2;
      if (flag === '--monitor-fd') a.monitorFd = n;
      else a.stateFd = n;
    } else if (w.startsWith('-') && w !== '-') {
      ctx.io.err(`colo-xl devmodel-args: unknown option ${w}\n${USAGE}`);
      return 2;
    } else if (a.file === undefined) {
      a.file = w;
    } else {
      ctx.io.err(USAGE);
      return 2;
    }
  }
  if (a.file === undefined) {
    ctx.io.err(USAGE);
    return 2;
  }
  return a as Args;
}

export const devmodelArgs: Command = {
  name: 'devmodel-args',
  usage: '[--domid N] [--restore none|remus|colo] <ConfigFile>',
  summary: 'Print the qemu-xen command line libxl would use for a config',
  async run(ctx, argv) {
    const a = parse(ctx, argv);
    if (typeof a === 'number') return a;
    const { printDeviceModelArgs } = await import('../devmodel.js');
    return printDeviceModelArgs(ctx, a);
  },
};
