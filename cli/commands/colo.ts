/**
 * `colo-xl colo <step>`: COLO disk replication driven step by step over the QMP sockets of two
 * running QEMUs started with libxl's COLO drive arguments (the primary's quorum, the secondary's
 * replication drive and exported disk). One call per step, so a person or a program can drive
 * and watch each one: start, checkpoint, status, failover, resume, stop.
 */
import type { CliContext, Command } from '../command.js';
import { ColoError } from '../../lib/colo/errors.js';
import type { ColoDisk } from '../../lib/colo/qdisk.js';
import { XenDiskReplication, type CheckpointTiming } from '../../lib/colo/replication.js';
import { QMPClient } from '../../lib/qmp/client.js';
import { QMPError } from '../../lib/qmp/errors.js';
import type { QmpAddress } from '../../lib/qmp/protocol.js';
import { runLaunch } from './colo-launch.js';
import { runNative } from './colo-native.js';

const USAGE = `colo <start|checkpoint|status|failover|resume|stop> [options]
       colo launch --role <primary|secondary> [--domid N] [--run-dir DIR] [--accel kvm|tcg] <cfg>

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
      --json               one JSON object per line, for programs

  QEMU-native COLO (KVM hosts: migration with x-colo, seed 002's procedure):
      --native             drive QEMU's own COLO instead of libxl's disk replication
  -d, --disk <i>           a disk colo-disk<i> (parent<i> on the secondary)
  -m, --migration <host>:<port>
                           start/resume: the secondary's -incoming address
      --delay <ms>         start/resume/checkpoint: x-checkpoint-delay (default 1000)
`;

export interface Options {
  step: string;
  native: boolean;
  migration?: { host: string; port: number };
  delay: number;
  primary?: QmpAddress;
  secondary?: QmpAddress;
  disks: Array<{ devid: number; exportName: string }>;
  nbd?: { host: string; port: number };
  count: number;
  interval: number;
  side: 'primary' | 'secondary';
  json: boolean;
}

const STEPS = ['start', 'checkpoint', 'status', 'failover', 'resume', 'stop'];

function parseAddress(s: string): QmpAddress {
  const m = /^tcp:(.+):(\d+)$/.exec(s);
  return m ? { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) } : s;
}

function parseArgs(argv: string[]): Options | string {
  const o: Options = { step: '', native: false, delay: 1000, disks: [], count: 1, interval: 0, side: 'secondary', json: false };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`option ${a} needs a value`);
      return v;
    };
    try {
      switch (a) {
        case '-P':
        case '--primary':
          o.primary = parseAddress(value());
          break;
        case '-S':
        case '--secondary':
          o.secondary = parseAddress(value());
          break;
        case '-d':
        case '--disk': {
          const v = value();
          if (/^\d+$/.test(v)) {
            o.disks.push({ devid: Number(v), exportName: '' });
            break;
          }
          const m = /^(\d+):([^\s,]+)$/.exec(v);
          if (!m) return `bad --disk '${v}': expected <devid>:<export>, e.g. 768:e1`;
          o.disks.push({ devid: Number(m[1]), exportName: m[2]! });
          break;
        }
        case '-n':
        case '--nbd': {
          const v = value();
          const m = /^(.+):(\d+)$/.exec(v);
          if (!m || Number(m[2]) <= 0 || Number(m[2]) > 65535) return `bad --nbd '${v}': expected <host>:<port>`;
          o.nbd = { host: m[1]!, port: Number(m[2]) };
          break;
        }
        case '-c':
        case '--count':
          o.count = Number(value());
          if (!Number.isInteger(o.count) || o.count < 1) return `bad --count: a positive integer is needed`;
          break;
        case '-i':
        case '--interval':
          o.interval = Number(value());
          if (!Number.isFinite(o.interval) || o.interval < 0) return `bad --interval: milliseconds are needed`;
          break;
        case '--side': {
          const v = value();
          if (v !== 'primary' && v !== 'secondary') return `bad --side '${v}': primary or secondary`;
          o.side = v;
          break;
        }
        case '--json':
          o.json = true;
          break;
        case '--native':
          o.native = true;
          break;
        case '-m':
        case '--migration': {
          const v = value();
          const m = /^(.+):(\d+)$/.exec(v);
          if (!m || Number(m[2]) <= 0 || Number(m[2]) > 65535) return `bad --migration '${v}': expected <host>:<port>`;
          o.migration = { host: m[1]!, port: Number(m[2]) };
          break;
        }
        case '--delay':
          o.delay = Number(value());
          if (!Number.isInteger(o.delay) || o.delay < 0) return `bad --delay: milliseconds are needed`;
          break;
        default:
          if (a.startsWith('-')) return `unknown option ${a}`;
          rest.push(a);
      }
    } catch (e) {
      return (e as Error).message;
    }
  }
  if (rest.length !== 1 || !STEPS.includes(rest[0]!)) return `one step is needed: ${STEPS.join(', ')}`;
  o.step = rest[0]!;
  const named = o.disks.filter((d) => d.exportName !== '').length;
  if (o.native && named > 0) return 'with --native, --disk takes an index (colo-disk<i>)';
  if (!o.native && named < o.disks.length) return `bad --disk '${o.disks.find((d) => !d.exportName)!.devid}': expected <devid>:<export>, e.g. 768:e1`;
  return o;
}

/** Which sockets and disk facts each step needs. */
function missing(o: Options): string | null {
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

export class Reporter {
  constructor(
    private readonly ctx: CliContext,
    private readonly json: boolean,
  ) {}
  event(kind: string, fields: Record<string, unknown>, text: string): void {
    if (this.json) this.ctx.io.out(JSON.stringify({ event: kind, ...fields }) + '\n');
    else this.ctx.io.out(text + '\n');
  }
  step(side: string, step: string, ms: number): void {
    this.event('step', { side, step, ms: round(ms) }, `${side.padEnd(9)} ${step.padEnd(44)} ${ms.toFixed(1).padStart(8)} ms`);
  }
}

export const round = (ms: number): number => Math.round(ms * 1000) / 1000;

async function run(ctx: CliContext, argv: string[]): Promise<number> {
  if (argv[0] === 'launch') return await runLaunch(ctx, argv.slice(1));
  const o = parseArgs(argv);
  if (typeof o === 'string') {
    ctx.io.err(`colo-xl colo: ${o}\n\nUsage: colo-xl ${USAGE}`);
    return 2;
  }
  const why = missing(o);
  if (why) {
    ctx.io.err(`colo-xl colo ${o.step}: ${why}\n\nUsage: colo-xl ${USAGE}`);
    return 2;
  }
  const r = new Reporter(ctx, o.json);
  if (o.native) return await runNative(ctx, o, r);
  return withColoClients(ctx, o, async (p, s) => {
    const nbd = o.nbd ?? { host: '127.0.0.1', port: 0 };
    const disks: ColoDisk[] = o.disks.map((d) => ({ ...d, ...nbd }));
    const repl = new XenDiskReplication(p, s, disks.length ? disks : [{ devid: 0, exportName: '?', ...nbd }], (side, step, ms) =>
      r.step(side, step, ms),
    );
    switch (o.step) {
      case 'start':
        await repl.probe();
        await repl.setupSecondary();
        await repl.setupPrimary();
        r.event('result', { step: 'start', state: repl.state }, `replicating ${disks.length} disk(s) to ${nbd.host}:${nbd.port}`);
        return 0;
      case 'checkpoint': {
        repl.assume('replicating');
        const times: CheckpointTiming[] = [];
        for (let i = 0; i < o.count; i++) {
          if (i > 0 && o.interval > 0) await new Promise((res) => setTimeout(res, o.interval));
          const t = await repl.checkpoint();
          times.push(t);
          r.event(
            'checkpoint',
            { n: t.n, ms: round(t.totalMs), secondaryMs: round(t.secondaryMs), primaryMs: round(t.primaryMs) },
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
          r.event(
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
        r.event('result', { step: 'failover', side: o.side, ms: round(ms) }, `${o.side} took over in ${ms.toFixed(1)} ms`);
        return 0;
      }
      case 'resume': {
        repl.assume('stopped');
        await repl.resume(s as QMPClient, (pr) =>
          r.event('progress', { export: pr.exportName, offset: pr.offset, len: pr.len }, `resync ${pr.exportName}: ${pr.len ? Math.floor((100 * pr.offset) / pr.len) : 100}% (${pr.offset}/${pr.len} bytes)`),
        );
        r.event('result', { step: 'resume', state: repl.state }, `replicating again (${disks.length} disk(s), first checkpoint done)`);
        return 0;
      }
      default: {
        repl.assume('replicating');
        await repl.stop();
        r.event('result', { step: 'stop', state: repl.state }, 'replication stopped; the primary goes on alone');
        return 0;
      }
    }
  });
}

/**
 * Opens the QMP sockets a step needs (a failover does without the dead side), runs the step, and
 * turns a QMP or COLO failure into the command's error line (and JSON event) and status 1.
 */
export async function withColoClients(
  ctx: CliContext,
  o: Options,
  step: (p: QMPClient | null, s: QMPClient | null) => Promise<number>,
): Promise<number> {
  const clients: QMPClient[] = [];
  const open = async (a: QmpAddress | undefined, name: string): Promise<QMPClient | null> => {
    if (!a) return null;
    const c = await QMPClient.open(a, { name, retryMs: 0, timeoutMs: 5000 });
    clients.push(c);
    return c;
  };
  try {
    const p = o.step === 'failover' && o.side === 'secondary' ? null : await open(o.primary, 'primary');
    const s = o.step === 'failover' && o.side === 'primary' ? null : await open(o.secondary, 'secondary');
    return await step(p, s);
  } catch (e) {
    if (!(e instanceof QMPError || e instanceof ColoError)) throw e;
    if (o.json) ctx.io.out(JSON.stringify({ event: 'error', error: e.name, message: e.message }) + '\n');
    ctx.io.err(`colo-xl colo ${o.step}: ${e.message}\n`);
    return 1;
  } finally {
    await Promise.all(clients.map((c) => c.disconnect()));
  }
}

export const colo: Command = {
  name: 'colo',
  usage: '<launch|start|checkpoint|status|failover|resume|stop> [options]',
  summary: 'Drive COLO disk replication between two running QEMUs, one step per call',
  run,
};
