/**
 * Failover and checkpoints of QEMU-native COLO with the HA agents, TLS off and on side by side
 * on fresh loopback pairs in one run (alternating, since the machine is shared): detection time
 * (SIGKILL of the primary → the secondary's heartbeat declares it lost), failover time (the COLO
 * steps on the secondary), their sum against the 500 ms target, and checkpoint latency (the
 * primary's checkpoint-request → vmstate-loaded, from its timestamped trace). The loss-free drill
 * with its 50 kills is `colo-xl colo-ha drill --victim primary|secondary --runs 50`; set
 * COLO_BENCH_DRILL_RUNS to run it here too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QemuNativeColo } from '../lib/colo/native.js';
import { HaAgent } from '../lib/ha/agent.js';
import { runDrill } from '../cli/lab/drill.js';
import { startPair } from '../cli/lab/pair.js';
import { makeTlsDir } from '../lib/tls/x509.js';
import { freePort, requireQemu, stopAllQemus, testQemus } from '../test/support/qemu.js';

const ROUNDS = Number(process.env.COLO_BENCH_ROUNDS ?? 5);
const CHECKPOINTS = Number(process.env.COLO_BENCH_CHECKPOINTS ?? 10);
const DRILL_RUNS = Number(process.env.COLO_BENCH_DRILL_RUNS ?? 0);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const lo = (port: number) => ({ host: '127.0.0.1', port });

interface Sample {
  start: number;
  checkpoints: number[];
  detect: number;
  failover: number;
  total: number;
}

function stamps(out: string, what: RegExp): number[] {
  return [...out.matchAll(new RegExp(`^\\d+@(\\d+\\.\\d+):colo_\\w+ ${what.source}`, 'gm'))].map((m) => Number(m[1]) * 1000);
}

async function once(dir: string, name: string, tlsDir?: string): Promise<Sample> {
  const pair = await startPair({ qemus: testQemus, dir, name, trace: true, checkpointDelayMs: 600_000, ...(tlsDir ? { tlsDir } : {}) });
  const [pp, sp] = [await freePort(), await freePort()];
  const agent = (role: 'primary' | 'secondary') =>
    new HaAgent({
      node: role,
      role,
      listen: lo(role === 'primary' ? pp : sp),
      peer: lo(role === 'primary' ? sp : pp),
      local: role === 'primary' ? pair.P.qmp : pair.S.qmp,
      colo: role === 'primary' ? new QemuNativeColo(pair.P.qmp, null, pair.colo.opts) : new QemuNativeColo(null, pair.S.qmp, pair.colo.opts),
    });
  const a = agent('primary');
  const b = agent('secondary');
  try {
    await a.start();
    await b.start();
    for (let i = 0; i < CHECKPOINTS; i++) {
      await pair.P.qemuIo('colo-disk0', `write -P ${i + 1} ${i * 65536} 64k`);
      const from = pair.P.output.length;
      await pair.colo.requestCheckpoint(600_000);
      const deadline = Date.now() + 10_000;
      while (!/Receive 'vmstate-loaded'/.test(pair.P.output.slice(from))) {
        if (Date.now() > deadline) throw new Error('checkpoint did not complete');
        await sleep(2);
      }
    }
    const req = stamps(pair.P.output, /Send 'checkpoint-request'/);
    const done = stamps(pair.P.output, /Receive 'vmstate-loaded'/);
    const checkpoints = done.slice(-CHECKPOINTS).map((t, i) => t - req[req.length - CHECKPOINTS + i]!);
    await sleep(200);
    const t = performance.now();
    await pair.P.kill('SIGKILL');
    const r = await b.outcome;
    if (r.event !== 'failover') throw new Error(`${r.event}: ${r.reason}`);
    return { start: pair.startMs, checkpoints, detect: r.detectedAt! - t, failover: r.failoverMs!, total: r.doneAt! - t };
  } finally {
    await a.stop();
    await b.stop();
    await pair.stop();
  }
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

export async function run(): Promise<void> {
  requireQemu();
  const dir = mkdtempSync(join(tmpdir(), 'colo-xl-bench-ha-'));
  try {
    const tls = makeTlsDir(join(dir, 'pki'));
    const off: Sample[] = [];
    const on: Sample[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      off.push(await once(dir, `off${i}`));
      on.push(await once(dir, `on${i}`, tls));
    }
    const row = (label: string, f: (s: Sample[]) => number) => {
      const [x, y] = [f(off), f(on)];
      console.log(`${label.padEnd(34)} ${x.toFixed(1).padStart(9)} ${y.toFixed(1).padStart(9)}   ${(y / x).toFixed(2)}×`);
    };
    console.log(`QEMU-native COLO with HA agents (heartbeat 50 ms × 3), ${ROUNDS} pairs each, ${CHECKPOINTS} checkpoints per pair`);
    console.log(`${'ms'.padEnd(34)} ${'TLS off'.padStart(9)} ${'TLS on'.padStart(9)}   on/off`);
    row('COLO start (migrate → both COLO)', (s) => pct(s.map((x) => x.start), 50));
    row('checkpoint latency p50', (s) => pct(s.flatMap((x) => x.checkpoints), 50));
    row('checkpoint latency p99', (s) => pct(s.flatMap((x) => x.checkpoints), 99));
    row('detection (SIGKILL → lost) p50', (s) => pct(s.map((x) => x.detect), 50));
    row('failover (COLO steps) p50', (s) => pct(s.map((x) => x.failover), 50));
    row('SIGKILL → serving p50', (s) => pct(s.map((x) => x.total), 50));
    row('SIGKILL → serving max', (s) => Math.max(...s.map((x) => x.total)));
    const all = [...off, ...on].map((x) => x.total);
    console.log(`target: serving within 500 ms of the SIGKILL: ${all.filter((x) => x < 500).length}/${all.length} runs`);
    if (DRILL_RUNS > 0) {
      for (const victim of ['primary', 'secondary'] as const) {
        const s = await runDrill({ qemus: testQemus, dir, victim, runs: DRILL_RUNS });
        console.log(`drill, ${victim} killed ${s.runs}×: ${s.passed} passed, ${s.failed} failed; ${s.writes} writes, ${s.failedWrites} failed; kill→serving median ${s.medianKillToServingMs.toFixed(1)} ms`);
      }
    }
  } finally {
    await stopAllQemus();
    rmSync(dir, { recursive: true, force: true });
  }
}
