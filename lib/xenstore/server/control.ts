import { XsError, joinStrings } from '../messages.js';
import { atoi } from '../../util/cstr.js';
import type { Limits } from './ops.js';
import type { NodeStore } from './tree.js';

/**
 * What the control commands see of the daemon (XenstoreCore has it): its limits, which
 * `quota set` changes, the store `check` checks, and a domain's usage.
 */
export interface ControlTarget {
  readonly limits: Limits;
  readonly store: Pick<NodeStore, 'check'>;
  domainUsage(domid: number): { domid: number; nodes: number; watches: number; transactions: number; outstanding: number; memory: number } | undefined;
}

type Quota = readonly [name: string, key: keyof Limits, descr: string];

// hard_quotas[] and soft_quotas[] of xenstored_control.c, in their order
const HARD_QUOTAS: readonly Quota[] = [
  ['nodes', 'nodesPerDomain', 'Nodes per domain'],
  ['watches', 'watchesPerDomain', 'Watches per domain'],
  ['transactions', 'transactionsPerDomain', 'Transactions per domain'],
  ['outstanding', 'outstanding', 'Outstanding requests per domain'],
  ['transaction-nodes', 'transactionNodes', 'Max. number of accessed nodes per transaction'],
  ['memory', 'memory', 'Total Xenstore memory per domain (error level)'],
  ['node-size', 'nodeSize', 'Max. size of a node'],
  ['path-max', 'pathMax', 'Max. length of a node path'],
  ['permissions', 'permsPerNode', 'Max. number of permissions per node'],
];
const SOFT_QUOTAS: readonly Quota[] = [['memory', 'memorySoft', 'Total Xenstore memory per domain (warning level)']];

// do_control_quota: show the settings, "set <name> <value>", or one domain's usage
function quota(core: ControlTarget, rest: string[], table: readonly Quota[]): Buffer {
  if (rest.length === 0) {
    const rows = table.map(([n, k, d]) => `${n.padEnd(17)}: ${String(core.limits[k]).padStart(8)} ${d}\n`);
    return joinStrings([`Quota settings:\n${rows.join('')}`]);
  }
  if (rest[0] === 'set') {
    // quota_set: exactly a name and a value of at least 1
    if (rest.length !== 3) throw new XsError('EINVAL', 'CONTROL');
    const val = atoi(rest[2]!);
    const q = table.find(([n]) => n === rest[1]);
    if (val < 1 || !q) throw new XsError('EINVAL', 'CONTROL');
    core.limits[q[1]] = val;
    return joinStrings(['OK']);
  }
  if (rest.length !== 1) throw new XsError('EINVAL', 'CONTROL');
  const u = core.domainUsage(atoi(rest[0]!) >>> 0);
  if (!u) throw new XsError('ENOENT', 'CONTROL');
  const ent = (n: string, v: number): string => `${n.padEnd(16)}: ${String(v).padStart(8)}\n`;
  return joinStrings([
    `Domain ${u.domid}:\n${ent('nodes', u.nodes)}${ent('watches', u.watches)}${ent('transactions', u.transactions)}` +
      `${ent('outstanding', u.outstanding)}${ent('memory', u.memory)}`,
  ]);
}

const HELP = [
  ['check', ''],
  ['print', '<string>'],
  ['quota', '[set <name> <val>|<domid>]'],
  ['quota-soft', '[set <name> <val>]'],
  ['help', ''],
];

// do_control (xenstored_control.c), the commands that make sense for the embedded daemon
export function controlCommand(core: ControlTarget, args: string[]): Buffer {
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
    case 'quota':
      return quota(core, rest, HARD_QUOTAS);
    case 'quota-soft':
      if (rest.length && rest[0] !== 'set') throw new XsError('EINVAL', 'CONTROL');
      return quota(core, rest, SOFT_QUOTAS);
    default:
      throw new XsError('EINVAL', 'CONTROL');
  }
}
