import type { Command } from '../command.js';
import { CliUsageError, intOption, oneOf, runCommandLine } from '../options.js';

const HELP = `Usage: colo-xl devmodel-args [--domid N] [--restore none|remus|colo] [--monitor-fd N] [--state-fd N] <ConfigFile>

Print, one argument per line, the command line libxl (Xen 4.17) would start the guest's qemu-xen
device model with: libxl_domain_create_new, or libxl_domain_create_restore with the given
checkpointed stream (colo makes COLO disks secondaries). --monitor-fd gives the pre-opened QMP
socket form (with -S), --state-fd adds -incoming fd:N. Disk paths are checked with stat(2) to
choose each disk's backend, as libxl does.
`;

const OPTIONS = {
  domid: { type: 'string' },
  restore: { type: 'string' },
  'monitor-fd': { type: 'string' },
  'state-fd': { type: 'string' },
} as const;

const fd = (v: string | undefined, name: string): number | undefined => (v === undefined ? undefined : intOption(v, name, 0));

export const devmodelArgs: Command = {
  name: 'devmodel-args',
  usage: '[--domid N] [--restore none|remus|colo] <ConfigFile>',
  summary: 'Print the qemu-xen command line libxl would use for a config',
  run: (ctx, argv) =>
    runCommandLine(ctx, { name: 'devmodel-args', help: HELP, options: OPTIONS }, argv, async ({ values: v, positionals }) => {
      if (positionals.length !== 1) throw new CliUsageError('one config file is needed');
      const restore = v.restore === undefined ? null : oneOf(v.restore, 'restore', ['none', 'remus', 'colo'] as const);
      const { printDeviceModelArgs } = await import('../devmodel.js');
      return printDeviceModelArgs(ctx, {
        domid: intOption(v.domid, 'domid', 1),
        restore,
        monitorFd: fd(v['monitor-fd'], 'monitor-fd'),
        stateFd: fd(v['state-fd'], 'state-fd'),
        file: positionals[0]!,
      });
    }),
};
