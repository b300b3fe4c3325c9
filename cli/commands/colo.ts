/**
 * `colo-xl colo <step>`: COLO disk replication driven step by step over the QMP sockets of two
 * running QEMUs started with libxl's COLO drive arguments (the primary's quorum, the secondary's
 * replication drive and exported disk). One call per step, so a person or a program can drive
 * and watch each one: start, checkpoint, status, failover, resume, stop. `--native` steps
 * QEMU's own COLO instead (colo-native.ts); `colo launch` starts a side (colo-launch.ts).
 */
import type { CliContext, Command } from '../command.js';
import type { ColoDisk } from '../../lib/colo/qdisk.js';
import type { CheckpointTiming } from '../../lib/colo/replication.js';
import type { QMPClient } from '../../lib/qmp/client.js';
import { loggerFrom } from '../../lib/util/log.js';
import { parseTcpOrPath } from '../../lib/util/host-port.js';
import { CliUsageError, hostPortOption, intOption, oneOf, roundMs, runCommandLine, type Output, type ParsedArgs } from '../options.js';
import { pauseBetween, progressRecord, stepRecord, withColoClients, type ColoOptions } from './colo-common.js';

const HELP = `Usage: colo-xl colo <start|checkpoint|status|failover|resume|stop> [options]
       colo-xl colo launch --role <primary|secondary> [--domid N] [--run-dir DIR] [--accel kvm|tcg] <cfg>

  -P, --primary <qmp>      primary QEMU's QMP socket (a path, or tcp:HOST:PORT)
  -S, --secondary <qmp>    secondary QEMU's QMP socket
  -d, --disk <devid>:<export>
                           a COLO disk (repeat for each): libxl's device number
                           (768 for hda) and its colo-export name
  -n, --nbd <host>:<port>  the secondary's NBD server (colo-host/colo-port)
  -c, --count <n>          checkpoint: how many (default 1)
  -i, --interval <ms>      checkpoint: pause between them (default 0)
      --side <primary|secondary>
                           failover: the side that takes over (default secondary)
      --json               one JSON object per line, for programs: {"kind": ...}
  -h, --help               print this help

  QEMU-native COLO (KVM hosts: migration with x-colo, seed 002's procedure):
      --native             drive QEMU's own COLO instead of libxl's disk replication
  -d, --disk <i>           a disk colo-disk<i> (parent<i> on the secondary)
  -m, --migration <host>:<port>
                           start/resume: the secondary's -incoming address
      --delay <ms>         start/resume/checkpoint: x-checkpoint-delay (default 1000)

Exit status: 0 done, 1 failed (a QMP or COLO error; status: a replication error), 2 usage.
`;

const OPTIONS = {
  primary: { type: 'string', short: 'P' },
  secondary: { type: 'string', short: 'S' },
  disk: { type: 'string', short: 'd', multiple: true },
  nbd: { type: 'string', short: 'n' },
  count: { type: 'string', short: 'c' },
  interval: { type: 'string', short: 'i' },
  side: { type: 'string' },
  json: { type: 'boolean' },
  native: { type: 'boolean' },
  migration: { type: 'string', short: 'm' },
  delay: { type: 'string' },
} as const;

const STEPS = ['start', 'checkpoint', 'status', 'failover', 'resume', 'stop'];


function parseDisk(v: string, native: boolean): { devid: number; exportName: string } {
  if (native) {
    if (!/^\d+$/.test(v)) throw new CliUsageError('with --native, --disk takes an index (colo-disk<i>)');
    return { devid: Number(v), exportName: '' };
  }
  const m = /^(\d+):([^\s,]+)$/.exec(v);
  if (!m) throw new CliUsageError(`bad --disk '${v}': expected <devid>:<export>, e.g. 768:e1`);
  return { devid: Number(m[1]), exportName: m[2]! };
}

function toOptions({ values: v, positionals }: ParsedArgs<typeof OPTIONS>): ColoOptions {
  if (positionals.length !== 1 || !STEPS.includes(positionals[0]!)) throw new CliUsageError(`one step is needed: ${STEPS.join(', ')}`);
  const native = v.native === true;
  const o: ColoOptions = {
    step: positionals[0]!,
    native,
    delay: intOption(v.delay, 'delay', 1000),
    disks: (v.disk ?? []).map((d) => parseDisk(d, native)),
    count: intOption(v.count, 'count', 1, 1),
    interval: intOption(v.interval, 'interval', 0),
    side: oneOf(v.side, 'side', ['primary', 'secondary'] as const, 'secondary'),
  };
  if (v.primary !== undefined) o.primary = parseTcpOrPath(v.primary);
  if (v.secondary !== undefined) o.secondary = parseTcpOrPath(v.secondary);
  if (v.nbd !== undefined) o.nbd = hostPortOption(v.nbd, 'nbd');
  if (v.migration !== undefined) o.migration = hostPortOption(v.migration, 'migration');
  const why = missing(o);
  if (why) throw new CliUsageError(why);
  return o;
}

/** Which sockets and disk facts each step needs. */
function missing(o: ColoOptions): string | null {
  const needP = o.step !== 'failover' || o.side === 'primary';
  const needS = o.step !== 'failover' || o.side === 'secondary';
  if (needP && o.step !== 'status' && !o.primary) return '--primary is needed';
  if (needS && o.step !== 'status' && !o.secondary) return '--secondary is needed';
  if (o.step === 'status' && !o.primary && !o.secondary) return '--primary or --secondary is needed';
  const needDisks = ['start', 'resume', 'stop'].includes(o.step) || (o.step === 'failover' && o.side === 'primary');
  if (o.disks.length === 0 && needDisks) return 'at least one --disk is needed';
  if (!o.nbd && (o.step === 'start' || o.step === 'resume')) return '--nbd is needed';
  if (o.native && !o.migration && (o.step === 'start' || o.step === 'resume')) return '--migration is needed';
  if (o.native && o.step === 'stop') return 'QEMU-native COLO has no stop step: fail over on the side that stays';
  return null;
}

/** libxl's COLO disk replication (XenDiskReplication), one step. */
async function runXenDisk(o: ColoOptions, out: Output): Promise<number> {
  const { XenDiskReplication } = await import('../../lib/colo/replication.js');
  return withColoClients(o, async (p, s) => {
    const nbd = o.nbd ?? { host: '127.0.0.1', port: 0 };
    const disks: ColoDisk[] = o.disks.map((d) => ({ ...d, ...nbd }));
    // each step's time, as the replication logs it
    const logger = loggerFrom((_level, _message, f) => stepRecord(out, String(f.side), String(f.step), Number(f.ms)));
    const repl = new XenDiskReplication(p, s, disks.length ? disks : [{ devid: 0, exportName: '?', ...nbd }], { logger });
    switch (o.step) {
      case 'start':
        await repl.probe();
        await repl.setupSecondary();
        await repl.setupPrimary();
        out.emit('result', { step: 'start', state: repl.state }, `replicating ${disks.length} disk(s) to ${nbd.host}:${nbd.port}`);
        return 0;
      case 'checkpoint': {
        repl.assume('replicating');
        for (let i = 0; i < o.count; i++) {
          await pauseBetween(o, i);
          const t: CheckpointTiming = await repl.checkpoint();
          out.emit(
            'checkpoint',
            { n: t.n, ms: roundMs(t.totalMs), secondaryMs: roundMs(t.secondaryMs), primaryMs: roundMs(t.primaryMs) },
            `checkpoint ${t.n}: ${t.totalMs.toFixed(1)} ms (secondary ${t.secondaryMs.toFixed(1)} ms, primary ${t.primaryMs.toFixed(1)} ms)`,
          );
        }
        return 0;
      }
      case 'status': {
        let bad = 0;
        for (const [side, c] of [['primary', p], ['secondary', s]] as const) {
          if (!c) continue;
          const vm = await c.execute<{ status: string }>('query-status');
          const st = await c.execute<{ error: boolean; desc?: string }>('query-xen-replication-status');
          if (st.error) bad++;
          out.emit(
            'status',
            { side, vm: vm.status, replicationError: st.error, desc: st.desc ?? null },
            `${side.padEnd(9)} vm ${vm.status}, replication ${st.error ? `ERROR: ${st.desc ?? '?'}` : 'ok'}`,
          );
        }
        return bad ? 1 : 0;
      }
      case 'failover': {
        repl.assume('replicating');
        const t = performance.now();
        if (o.side === 'secondary') await repl.failoverSecondary();
        else await repl.failoverPrimary();
        const ms = performance.now() - t;
        out.emit('result', { step: 'failover', side: o.side, ms: roundMs(ms) }, `${o.side} took over in ${ms.toFixed(1)} ms`);
        return 0;
      }
      case 'resume': {
        repl.assume('stopped');
        await repl.resume(s as QMPClient, (pr) => progressRecord(out, pr));
        out.emit('result', { step: 'resume', state: repl.state }, `replicating again (${disks.length} disk(s), first checkpoint done)`);
        return 0;
      }
      default: {
        repl.assume('replicating');
        await repl.stop();
        out.emit('result', { step: 'stop', state: repl.state }, 'replication stopped; the primary goes on alone');
        return 0;
      }
    }
  });
}

async function run(ctx: CliContext, argv: string[]): Promise<number> {
  if (argv[0] === 'launch') return (await import('./colo-launch.js')).runLaunch(ctx, argv.slice(1));
  // the step names the messages (`colo-xl colo start: ...`) even when the line is refused
  const step = argv.find((a) => STEPS.includes(a));
  return runCommandLine(ctx, { name: step ? `colo ${step}` : 'colo', help: HELP, options: OPTIONS }, argv, async (args, out) => {
    const o = toOptions(args);
    if (o.native) return (await import('./colo-native.js')).runNative(o, out);
    return runXenDisk(o, out);
  });
}

export const colo: Command = {
  name: 'colo',
  usage: '<launch|start|checkpoint|status|failover|resume|stop> [options]',
  summary: 'Drive COLO disk replication between two running QEMUs, one step per call',
  run,
};
