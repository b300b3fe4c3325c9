/**
 * `colo-xl colo-ha <step>`: the production side of QEMU-native COLO — an HA agent per node
 * (heartbeat, split-brain guard, automatic failover), a witness, COLO start with TLS, x509
 * credentials, and the loss-free drill.
 */
import type { CliContext, Command } from '../command.js';
import { QemuNativeColo } from '../../lib/colo/native.js';
import { formatHaReport, HaAgent } from '../../lib/ha/agent.js';
import { runDrill, type DrillRun } from '../lab/drill.js';
import { DEFAULT_INTERVAL_MS, DEFAULT_MISS_COUNT, parseHostPort, type HostPort } from '../../lib/ha/heartbeat.js';
import { WitnessServer } from '../../lib/ha/witness.js';
import { QMPClient } from '../../lib/qmp/client.js';
import { makeTlsDir, tlsCredsObject, isTlsDir } from '../../lib/tls/x509.js';

const USAGE = `colo-ha <agent|witness|start|tls-init|drill> [options]

  agent      run the heartbeat on one node; on peer loss take over (exit 0), or
             report a blocked takeover (exit 2)
    --role primary|secondary  --node NAME  --listen H:P  --peer H:P
    -Q, --qmp <socket>        this node's QEMU (QMP unix socket path)
    -d <i>  -n <nbd H:P>  -m <migration H:P>   as for colo --native
    --interval <ms> (${DEFAULT_INTERVAL_MS})  --miss <n> (${DEFAULT_MISS_COUNT})
    --fence-cmd <cmd>         run with the peer's name as $1; failure blocks takeover
    --witness H:P             without a fence command: take over only when the
                              witness no longer hears the peer
  witness    --listen H:P [--for <ms>]   answer the agents' questions
  start      -P <qmp> -S <qmp> -d <i> -n H:P -m H:P [--delay <ms>] [--tls-dir DIR]
             start QEMU-native COLO; with --tls-dir, NBD and migration use TLS
  tls-init   <dir> [--ip IP]... [--dns NAME]...   make a CA and server/client certs
  drill      --victim primary|secondary [--runs 50] [--rate 600] [--delay 200]
             [--periodic] [--tls-dir DIR] [--dir DIR] [--interval <ms>] [--miss <n>]
             SIGKILL under write load, check the disk; checkpoints every --delay ms
             with the load drained first (as a guest's I/O is), or with --periodic
             QEMU's own timer with writes running through them
  --json     one JSON object per line
`;

type Opts = Map<string, string[]>;

const WITH_VALUE = new Set(['--role', '--node', '--listen', '--peer', '-Q', '--qmp', '-P', '-S', '-d', '-n', '-m', '--interval', '--miss', '--fence-cmd', '--witness', '--for', '--delay', '--tls-dir', '--ip', '--dns', '--victim', '--runs', '--rate', '--dir']);
const ALIAS: Record<string, string> = { '-Q': '--qmp' };

function parse(argv: string[]): { o: Opts; rest: string[] } {
  const o: Opts = new Map();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json' || a === '--periodic') o.set(a, ['']);
    else if (WITH_VALUE.has(a)) {
      const v = argv[++i];
      if (v === undefined) throw new Error(`option ${a} needs a value`);
      const k = ALIAS[a] ?? a;
      o.set(k, [...(o.get(k) ?? []), v]);
    } else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else rest.push(a);
  }
  return { o, rest };
}

const one = (o: Opts, k: string): string | undefined => o.get(k)?.at(-1);
function need(o: Opts, k: string): string {
  const v = one(o, k);
  if (v === undefined) throw new Error(`${k} is required`);
  return v;
}
function num(o: Opts, k: string, dflt: number): number {
  const v = one(o, k);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`bad ${k} '${v}': a positive number is needed`);
  return n;
}
const addr = (o: Opts, k: string): HostPort => parseHostPort(need(o, k), k);

function nativeOpts(o: Opts, tlsCreds?: string): ConstructorParameters<typeof QemuNativeColo>[2] {
  return {
    disks: (o.get('-d') ?? ['0']).map(Number),
    nbd: one(o, '-n') ? addr(o, '-n') : { host: '127.0.0.1', port: 0 },
    migration: one(o, '-m') ? addr(o, '-m') : { host: '127.0.0.1', port: 0 },
    checkpointDelayMs: num(o, '--delay', 1000),
    ...(tlsCreds ? { tlsCreds } : {}),
  };
}

/** SIGINT/SIGTERM (or `ms`) ends a long-running step; cancel() drops the handlers. */
function untilSignal(ms?: number): { done: Promise<void>; cancel: () => void } {
  let cancel = (): void => undefined;
  const done = new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const end = () => {
      cancel();
      resolve();
    };
    cancel = () => {
      process.off('SIGINT', end);
      process.off('SIGTERM', end);
      if (timer) clearTimeout(timer);
    };
    process.once('SIGINT', end);
    process.once('SIGTERM', end);
    if (ms) timer = setTimeout(end, ms);
  });
  return { done, cancel };
}

async function agent(ctx: CliContext, o: Opts, json: boolean): Promise<number> {
  const role = need(o, '--role');
  if (role !== 'primary' && role !== 'secondary') throw new Error(`bad --role '${role}': primary or secondary`);
  const q = await QMPClient.open(need(o, '--qmp'), { name: role, retryMs: 0, timeoutMs: 5000 });
  const colo = role === 'primary' ? new QemuNativeColo(q, null, nativeOpts(o)) : new QemuNativeColo(null, q, nativeOpts(o));
  const fence = one(o, '--fence-cmd');
  const a = new HaAgent({
    node: one(o, '--node') ?? role,
    role,
    listen: addr(o, '--listen'),
    peer: addr(o, '--peer'),
    intervalMs: num(o, '--interval', DEFAULT_INTERVAL_MS),
    missCount: num(o, '--miss', DEFAULT_MISS_COUNT),
    local: q,
    colo,
    ...(fence ? { fenceCmd: fence } : {}),
    ...(one(o, '--witness') ? { witness: addr(o, '--witness') } : {}),
  });
  await a.start();
  const sig = untilSignal();
  const r = await Promise.race([a.outcome, sig.done.then(() => null)]);
  sig.cancel();
  await a.stop();
  await q.disconnect();
  if (!r) return 0;
  const round = (x?: number) => (x === undefined ? undefined : Math.round(x * 10) / 10);
  const { detectedAt: _d, doneAt: _e, ...rest } = r;
  ctx.io.out(json ? `${JSON.stringify({ ...rest, silentMs: round(r.silentMs), guardMs: round(r.guardMs), failoverMs: round(r.failoverMs) })}\n` : `${formatHaReport(r)}\n`);
  return r.event === 'failover' || r.event === 'local-lost' ? 0 : r.event === 'blocked' ? 2 : 1;
}

async function start(ctx: CliContext, o: Opts, json: boolean): Promise<number> {
  const tlsDir = one(o, '--tls-dir');
  if (tlsDir && !isTlsDir(tlsDir)) throw new Error(`--tls-dir ${tlsDir}: needs ca-cert.pem, server-cert.pem/-key.pem, client-cert.pem/-key.pem (see colo-ha tls-init)`);
  const p = await QMPClient.open(need(o, '-P'), { name: 'primary', retryMs: 0, timeoutMs: 5000 });
  const s = await QMPClient.open(need(o, '-S'), { name: 'secondary', retryMs: 0, timeoutMs: 5000 });
  try {
    const id = tlsDir ? 'colo-xl-tls' : undefined;
    if (tlsDir && id) {
      await s.execute('object-add', tlsCredsObject(id, tlsDir, 'server'));
      await p.execute('object-add', tlsCredsObject(id, tlsDir, 'client'));
    }
    const colo = new QemuNativeColo(p, s, nativeOpts(o, id));
    await colo.probe();
    await colo.prepareSecondary();
    const ms = await colo.start();
    // protection counts from the first completed checkpoint (QemuNativeColo.checkpoint); the
    // first copies the whole guest RAM, so the wait is generous; a dead peer ends it at once
    const { ms: first } = await colo.checkpoint({ timeoutMs: 60_000 });
    ctx.io.out(
      json
        ? `${JSON.stringify({ event: 'result', step: 'start', ms: Math.round(ms * 10) / 10, firstCheckpointMs: Math.round(first * 10) / 10, tls: !!tlsDir })}\n`
        : `COLO running${tlsDir ? ' over TLS' : ''}: both sides in COLO ${ms.toFixed(1)} ms after migrate, first checkpoint ${first.toFixed(1)} ms later\n`,
    );
    return 0;
  } finally {
    await p.disconnect();
    await s.disconnect();
  }
}

function runLine(r: DrillRun): string {
  const v = r.verdict;
  return (
    `run ${r.n}: ${r.ok ? 'ok' : 'FAILED'}: ${r.writes} writes (${r.acked} acked, ${r.failed} failed, ${r.rate.toFixed(0)}/s), ` +
    `${r.checkpoints} checkpoints, kill→serving ${r.killToServingMs.toFixed(1)} ms (detection ${r.killToDetectMs.toFixed(1)} + failover ${r.failoverMs.toFixed(1)})` +
    (v ? `, disk: ${v.present} present, ${v.mustHave} required, ${v.mustNotHave} excluded, ${v.either} either${r.inflightCheckpoint ? ', in-flight checkpoint kept' : ''}` : '') +
    (r.error ? `: ${r.error}` : v && !v.ok ? `: ${v.problems.slice(0, 3).join('; ')}` : '')
  );
}

async function drill(ctx: CliContext, o: Opts, json: boolean): Promise<number> {
  const victim = need(o, '--victim');
  if (victim !== 'primary' && victim !== 'secondary') throw new Error(`bad --victim '${victim}': primary or secondary`);
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = one(o, '--dir') ?? mkdtempSync(join(tmpdir(), 'colo-xl-drill-'));
  const tlsDir = one(o, '--tls-dir');
  try {
    const s = await runDrill({
      dir,
      victim,
      runs: num(o, '--runs', 50),
      rate: num(o, '--rate', 600),
      checkpointDelayMs: num(o, '--delay', 200),
      // drained: the drill takes each checkpoint with the load drained, as a guest's I/O is;
      // periodic: QEMU's own timer, with monitor writes running through the checkpoints
      drainedCheckpointMs: o.has('--periodic') ? 0 : num(o, '--delay', 200),
      ...(tlsDir ? { tlsDir } : {}),
      // the agents' heartbeat, as for colo-ha agent (a loaded host needs more misses)
      ...(one(o, '--interval') ? { intervalMs: num(o, '--interval', DEFAULT_INTERVAL_MS) } : {}),
      ...(one(o, '--miss') ? { missCount: num(o, '--miss', DEFAULT_MISS_COUNT) } : {}),
      onRun: (r) => ctx.io.out(json ? `${JSON.stringify({ event: 'run', ...r, verdict: r.verdict && { ...r.verdict, problems: r.verdict.problems.slice(0, 5) } })}\n` : `${runLine(r)}\n`),
    });
    const { results: _r, ...sum } = s;
    ctx.io.out(
      json
        ? `${JSON.stringify({ event: 'summary', ...sum })}\n`
        : `${victim} killed ${s.runs} times: ${s.passed} passed, ${s.failed} failed; ${s.writes} writes, ${s.acked} acked, ${s.failedWrites} failed; ` +
            `lowest rate ${s.minRate.toFixed(0)}/s; kill→serving median ${s.medianKillToServingMs.toFixed(1)} ms, max ${s.maxKillToServingMs.toFixed(1)} ms\n`,
    );
    return s.failed === 0 ? 0 : 1;
  } finally {
    if (!one(o, '--dir')) rmSync(dir, { recursive: true, force: true });
  }
}

export const coloHa: Command = {
  name: 'colo-ha',
  usage: '<agent|witness|start|tls-init|drill> [options]',
  summary: 'COLO heartbeat, automatic failover, witness, TLS and the loss-free drill',
  async run(ctx, argv) {
    const [step, ...args] = argv;
    if (!step || step === '-h' || step === '--help') {
      if (step) ctx.io.out(USAGE);
      else ctx.io.err(USAGE);
      return step ? 0 : 2;
    }
    try {
      const { o, rest } = parse(args);
      const json = o.has('--json');
      switch (step) {
        case 'agent':
          return await agent(ctx, o, json);
        case 'witness': {
          const w = new WitnessServer();
          await w.start(addr(o, '--listen'));
          ctx.io.out(json ? `${JSON.stringify({ event: 'witness', port: w.port })}\n` : `witness listening on UDP port ${w.port}\n`);
          await untilSignal(one(o, '--for') ? num(o, '--for', 1) : undefined).done;
          await w.stop();
          return 0;
        }
        case 'start':
          return await start(ctx, o, json);
        case 'tls-init': {
          const dir = rest[0];
          if (!dir) throw new Error('tls-init needs a directory');
          makeTlsDir(dir, { ...(o.get('--ip') ? { ips: o.get('--ip') } : {}), ...(o.get('--dns') ? { dns: o.get('--dns') } : {}) });
          ctx.io.out(`${dir}: ca-cert.pem server-cert.pem server-key.pem client-cert.pem client-key.pem\n`);
          return 0;
        }
        case 'drill':
          return await drill(ctx, o, json);
        default:
          ctx.io.err(`colo-ha: unknown step '${step}'\n${USAGE}`);
          return 2;
      }
    } catch (e) {
      ctx.io.err(`colo-ha ${step}: ${(e as Error).message}\n`);
      return 1;
    }
  },
};
