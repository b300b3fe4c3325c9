/**
 * `colo-xl colo-ha <step>`: the production side of QEMU-native COLO — an HA agent per node
 * (heartbeat, split-brain guard, automatic failover), a witness, COLO start with TLS, x509
 * credentials, and the loss-free drill.
 */
import type { Command } from '../command.js';
import { ColoXlError } from '../../lib/errors.js';
import { DEFAULT_INTERVAL_MS, DEFAULT_MISS_COUNT } from '../../lib/ha/heartbeat.js';
import type { QMPClient } from '../../lib/qmp/client.js';
import { CliUsageError, hostPortOption, oneOf, positiveOption, required, roundMs, runCommandLine, type OptionValues, type Output } from '../options.js';

const HELP = `Usage: colo-xl colo-ha <agent|witness|start|tls-init|drill> [options]

  agent      run the heartbeat on one node; on peer loss take over (exit 0), or
             report a blocked takeover (exit 3)
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
  --json     one JSON object per line: {"kind": ...}
  -h, --help print this help

Exit status: 0 done, 1 failed, 2 usage, 3 (agent) takeover blocked.
`;

/** `colo-ha agent`: the takeover was refused by the split-brain guard. */
const EXIT_BLOCKED = 3;

const OPTIONS = {
  role: { type: 'string' },
  node: { type: 'string' },
  listen: { type: 'string' },
  peer: { type: 'string' },
  qmp: { type: 'string', short: 'Q' },
  primary: { type: 'string', short: 'P' },
  secondary: { type: 'string', short: 'S' },
  disk: { type: 'string', short: 'd', multiple: true },
  nbd: { type: 'string', short: 'n' },
  migration: { type: 'string', short: 'm' },
  interval: { type: 'string' },
  miss: { type: 'string' },
  'fence-cmd': { type: 'string' },
  witness: { type: 'string' },
  for: { type: 'string' },
  delay: { type: 'string' },
  'tls-dir': { type: 'string' },
  ip: { type: 'string', multiple: true },
  dns: { type: 'string', multiple: true },
  victim: { type: 'string' },
  runs: { type: 'string' },
  rate: { type: 'string' },
  dir: { type: 'string' },
  json: { type: 'boolean' },
  periodic: { type: 'boolean' },
} as const;

type Opts = OptionValues<typeof OPTIONS>;
const STEPS = ['agent', 'witness', 'start', 'tls-init', 'drill'];

const num = positiveOption;
const addr = (v: string | undefined, name: string) => hostPortOption(required(v, name), name, 0);

function nativeOpts(o: Opts, tlsCreds?: string) {
  return {
    disks: (o.disk ?? ['0']).map(Number),
    nbd: o.nbd ? addr(o.nbd, 'nbd') : { host: '127.0.0.1', port: 0 },
    migration: o.migration ? addr(o.migration, 'migration') : { host: '127.0.0.1', port: 0 },
    checkpointDelayMs: num(o.delay, 'delay', 1000),
    ...(tlsCreds ? { tlsCreds } : {}),
  };
}

async function openQmp(path: string, name: string): Promise<QMPClient> {
  const { QMPClient } = await import('../../lib/qmp/client.js');
  return QMPClient.open(path, { name, retryMs: 0, timeoutMs: 5000 });
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

async function agent(o: Opts, out: Output): Promise<number> {
  const role = oneOf(o.role, 'role', ['primary', 'secondary'] as const);
  // the whole command line is checked before the QMP socket is opened: nothing to close on a refusal
  const settings = {
    node: o.node ?? role,
    role,
    listen: addr(o.listen, 'listen'),
    peer: addr(o.peer, 'peer'),
    intervalMs: num(o.interval, 'interval', DEFAULT_INTERVAL_MS),
    missCount: num(o.miss, 'miss', DEFAULT_MISS_COUNT),
    ...(o['fence-cmd'] ? { fenceCmd: o['fence-cmd'] } : {}),
    ...(o.witness ? { witness: addr(o.witness, 'witness') } : {}),
  };
  const native = nativeOpts(o);
  const qmpPath = required(o.qmp, 'qmp');
  const [{ QemuNativeColo }, { formatHaReport, HaAgent }] = await Promise.all([import('../../lib/colo/native.js'), import('../../lib/ha/agent.js')]);
  const q = await openQmp(qmpPath, role);
  try {
    const colo = role === 'primary' ? new QemuNativeColo(q, null, native) : new QemuNativeColo(null, q, native);
    const a = new HaAgent({ ...settings, local: q, colo });
    const sig = untilSignal();
    let r;
    try {
      await a.start();
      r = await Promise.race([a.outcome, sig.done.then(() => null)]);
    } finally {
      sig.cancel();
      await a.stop();
    }
    if (!r) return 0;
    const { detectedAt: _d, doneAt: _e, event: outcome, ...rest } = r;
    const fields = { outcome, ...rest, silentMs: r.silentMs && roundMs(r.silentMs), guardMs: r.guardMs && roundMs(r.guardMs), failoverMs: r.failoverMs && roundMs(r.failoverMs) };
    out.emit('report', fields, formatHaReport(r));
    return outcome === 'failover' || outcome === 'local-lost' ? 0 : outcome === 'blocked' ? EXIT_BLOCKED : 1;
  } finally {
    await q.disconnect();
  }
}

async function start(o: Opts, out: Output): Promise<number> {
  const { isTlsDir, tlsCredsObject } = await import('../../lib/tls/x509.js');
  const tlsDir = o['tls-dir'];
  if (tlsDir && !isTlsDir(tlsDir)) {
    throw new ColoXlError('CLI_TLS_DIR_INCOMPLETE', `--tls-dir ${tlsDir}: needs ca-cert.pem, server-cert.pem/-key.pem, client-cert.pem/-key.pem (see colo-ha tls-init)`);
  }
  const [pPath, sPath] = [required(o.primary, 'primary'), required(o.secondary, 'secondary')];
  const id = tlsDir ? 'colo-xl-tls' : undefined;
  const native = nativeOpts(o, id);
  const { QemuNativeColo } = await import('../../lib/colo/native.js');
  const opened: QMPClient[] = [];
  try {
    // each client is closed whatever comes after it, the second open's failure included
    const p = await openQmp(pPath, 'primary');
    opened.push(p);
    const s = await openQmp(sPath, 'secondary');
    opened.push(s);
    if (tlsDir && id) {
      await s.execute('object-add', tlsCredsObject(id, tlsDir, 'server'));
      await p.execute('object-add', tlsCredsObject(id, tlsDir, 'client'));
    }
    const colo = new QemuNativeColo(p, s, native);
    await colo.probe();
    await colo.prepareSecondary();
    const ms = await colo.start();
    // protection counts from the first completed checkpoint (QemuNativeColo.checkpoint); the
    // first copies the whole guest RAM, so the wait is generous; a dead peer ends it at once
    const { CHECKPOINT_TIMEOUT_MS } = await import('./colo-native.js');
    const { ms: first } = await colo.checkpoint({ timeoutMs: CHECKPOINT_TIMEOUT_MS });
    out.emit(
      'result',
      { step: 'start', ms: roundMs(ms), firstCheckpointMs: roundMs(first), tls: !!tlsDir },
      `COLO running${tlsDir ? ' over TLS' : ''}: both sides in COLO ${ms.toFixed(1)} ms after migrate, first checkpoint ${first.toFixed(1)} ms later`,
    );
    return 0;
  } finally {
    await Promise.all(opened.map((c) => c.disconnect()));
  }
}

async function witness(o: Opts, out: Output): Promise<number> {
  const listen = addr(o.listen, 'listen');
  const forMs = o.for === undefined ? undefined : num(o.for, 'for', 1);
  const { WitnessServer } = await import('../../lib/ha/witness.js');
  const w = new WitnessServer();
  await w.start(listen);
  try {
    out.emit('witness', { port: w.port }, `witness listening on UDP port ${w.port}`);
    await untilSignal(forMs).done;
    return 0;
  } finally {
    await w.stop();
  }
}

async function tlsInit(o: Opts, positionals: string[], out: Output): Promise<number> {
  const dir = positionals[0];
  if (!dir || positionals.length > 1) throw new CliUsageError('tls-init needs one directory');
  const { makeTlsDir } = await import('../../lib/tls/x509.js');
  makeTlsDir(dir, { ...(o.ip ? { ips: o.ip } : {}), ...(o.dns ? { dns: o.dns } : {}) });
  const files = ['ca-cert.pem', 'server-cert.pem', 'server-key.pem', 'client-cert.pem', 'client-key.pem'];
  out.emit('tls-init', { dir, files }, `${dir}: ${files.join(' ')}`);
  return 0;
}

async function step(name: string, o: Opts, positionals: string[], out: Output): Promise<number> {
  if (name !== 'tls-init' && positionals.length > 0) throw new CliUsageError(`unexpected argument ${positionals[0]}`);
  switch (name) {
    case 'agent':
      return agent(o, out);
    case 'witness':
      return witness(o, out);
    case 'start':
      return start(o, out);
    case 'tls-init':
      return tlsInit(o, positionals, out);
    default:
      return (await import('./colo-ha-drill.js')).drill(o, out);
  }
}

export const coloHa: Command = {
  name: 'colo-ha',
  usage: '<agent|witness|start|tls-init|drill> [options]',
  summary: 'COLO heartbeat, automatic failover, witness, TLS and the loss-free drill',
  run(ctx, argv) {
    const [first, ...args] = argv;
    const named = first !== undefined && STEPS.includes(first);
    return runCommandLine(ctx, { name: named ? `colo-ha ${first}` : 'colo-ha', help: HELP, options: OPTIONS }, named ? args : argv, async ({ values, positionals }, out) => {
      if (!named) throw new CliUsageError(first === undefined || first.startsWith('-') ? `one step is needed: ${STEPS.join(', ')}` : `unknown step '${first}'`);
      return step(first, values, positionals, out);
    });
  },
};

