import { XsError, joinStrings } from '../messages.js';
import type { XenstoreCore } from './core.js';

const HELP = [
  ['check', ''],
  ['print', '<string>'],
  ['quota', '[<domid>]'],
  ['help', ''],
];

// do_control (xenstored_control.c), the commands that make sense for the embedded daemon
export function controlCommand(core: XenstoreCore, args: string[]): Buffer {
  const [cmd, ...rest] = args;
  switch (cmd) {
    case 'help':
      return joinStrings([HELP.map(([c, a]) => `${c}\t${a}\n`).join('')]);
    case 'check': {
      const problems = core.store.check();
      if (problems.length) throw new XsError('EIO', 'CONTROL', undefined, problems.join('; '));
      return joinStrings(['OK']);
    }
    case 'print':
      if (rest.length < 1) throw new XsError('EINVAL', 'CONTROL');
      return joinStrings(['OK']);
    case 'quota': {
      if (rest.length === 0) {
        const l = core.limits;
        const rows: Array<[string, number, string]> = [
          ['nodes', l.nodesPerDomain, 'Nodes per domain'],
          ['watches', l.watchesPerDomain, 'Watches per domain'],
          ['transactions', l.transactionsPerDomain, 'Transactions per domain'],
          ['node-size', l.nodeSize, 'Max. size of a node'],
          ['path-max', l.pathMax, 'Max. length of a node path'],
          ['permissions', l.permsPerNode, 'Max. number of permissions per node'],
        ];
        return joinStrings([`Quota settings:\n${rows.map(([n, v, d]) => `${n.padEnd(17)}: ${String(v).padStart(8)} ${d}\n`).join('')}`]);
      }
      const domid = Number(rest[0]);
      if (!Number.isInteger(domid) || !core.domains.isIntroduced(domid)) throw new XsError('EINVAL', 'CONTROL');
      return joinStrings([`Domain ${domid}:\nnodes            : ${String(core.store.ownedBy(domid)).padStart(8)}\n`]);
    }
    default:
      throw new XsError('EINVAL', 'CONTROL');
  }
}
