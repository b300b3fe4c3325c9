/**
 * The loss-free drill: a COLO pair under a steady write load, one side SIGKILLed at a random
 * moment, automatic failover by the heartbeat agents, then the survivor's disk checked byte for
 * byte. Primary killed: the survivor must hold the primary's disk as of the last completed
 * checkpoint (acked before it: present; sent after it: absent; none torn). Secondary killed: the
 * primary must fail no write and hold every one.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ColoXlError } from '../../lib/errors.js';
import { QemuNativeColo } from '../../lib/colo/native.js';
import { freePorts, QemuGroup, qemuImg } from '../../lib/qemu/process.js';
import { HaAgent, type HaReport } from '../../lib/ha/agent.js';
import { waitFailoverCommit } from '../../lib/colo/replication.js';
import { firstCheckpoint, startPair } from './pair.js';
import { BLOCK, verifyDisk, wallNow, WriteLoad, type DiskVerdict, type WriteRecord } from './load.js';

export interface DrillOptions {
  dir: string;
  victim: 'primary' | 'secondary';
  runs: number;
  rate?: number;
  checkpointDelayMs?: number;
  /** The kill comes uniformly between these (ms of load). */
  minLoadMs?: number;
  maxLoadMs?: number;
  /**
   * Checkpoints driven by the drill every this many ms, with the load drained before each as a
   * guest's is (default). 0: QEMU's own periodic checkpoints with the load running through them.
   */
  drainedCheckpointMs?: number;
  tlsDir?: string;
  /**
   * Factor for the drill's own time limits (first checkpoint, each driven checkpoint, the
   * survivor's outcome): a test on a loaded host passes its measured slowness.
   */
  timeScale?: number;
  intervalMs?: number;
  missCount?: number;
  onRun?: (r: DrillRun) => void;
  /** The group the runs' QEMUs are spawned in; by default the drill's own, ended when it returns. */
  qemus?: QemuGroup;
}

export interface DrillRun {
  n: number;
  ok: boolean;
  writes: number;
  acked: number;
  failed: number;
  rate: number;
  checkpoints: number;
  /** The survivor held the checkpoint that was in flight at the kill (the secondary had it). */
  inflightCheckpoint: boolean;
  killToDetectMs: number;
  failoverMs: number;
  killToServingMs: number;
  verdict: DiskVerdict | null;
  error?: string;
}

const DISK = 16 << 20;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Checkpoint {
  vmstateSend: number;
  loaded?: number;
}

/**
 * The primary's checkpoints from its timestamped trace (wall-clock ms), for the verdict only:
 * vmstate-send is a tighter cut than the STOP the detector sees (colo/checkpoint.ts), and
 * the trace of a SIGKILLed primary is complete up to its last line.
 */
export function parseCheckpoints(out: string): Checkpoint[] {
  const cps: Checkpoint[] = [];
  for (const m of out.matchAll(/^\d+@(\d+\.\d+):colo_(?:send|receive)_message (Send 'vmstate-send'|Receive 'vmstate-loaded')/gm)) {
    const t = Number(m[1]) * 1000;
    if (m[2]!.startsWith('Send')) cps.push({ vmstateSend: t });
    else if (cps.length > 0) cps[cps.length - 1]!.loaded = t;
  }
  return cps;
}

function rawImage(img: string, out: string): Buffer {
  qemuImg('convert', '-O', 'raw', img, out);
  const b = readFileSync(out);
  rmSync(out);
  return b;
}

/** The primary-kill verdict: the last completed checkpoint, else the one in flight at the kill. */
function verifyPrimaryKill(raw: Buffer, writes: WriteRecord[], cps: Checkpoint[], killAt: number): { v: DiskVerdict; inflight: boolean } {
  const done = cps.filter((c) => c.loaded !== undefined);
  const last = done[done.length - 1];
  const v = verifyDisk(raw, writes, (w) => {
    if (last && w.ackAt !== undefined && w.ackAt < last.vmstateSend) return 'must';
    return w.sentAt > (last?.loaded ?? 0) ? 'mustNot' : 'either';
  });
  const next = cps[cps.length - 1];
  if (v.ok || !next || next.loaded !== undefined) return { v, inflight: false };
  const v2 = verifyDisk(raw, writes, (w) => (w.ackAt !== undefined && w.ackAt < next.vmstateSend ? 'must' : w.sentAt > killAt ? 'mustNot' : 'either'));
  return v2.ok ? { v: v2, inflight: true } : { v, inflight: false };
}

export async function runDrillOnce(o: DrillOptions & { qemus: QemuGroup }, n: number): Promise<DrillRun> {
  const drained = o.drainedCheckpointMs ?? 200;
  const scale = Math.max(1, o.timeScale ?? 1);
  const pair = await startPair({ qemus: o.qemus, dir: o.dir, name: `d${n}`, trace: true, checkpointDelayMs: drained > 0 ? 600_000 : (o.checkpointDelayMs ?? 200), diskSize: `${DISK >> 20}M`, ...(o.tlsDir ? { tlsDir: o.tlsDir } : {}) });
  // stderr alone: the combined output can split a trace line around a stdout chunk
  let trace = '';
  pair.P.proc.stderr?.on('data', (b: Buffer) => (trace += b.toString()));
  const [pp, sp] = await freePorts(2);
  const agent = (role: 'primary' | 'secondary'): HaAgent =>
    new HaAgent({
      node: role,
      role,
      listen: { host: '127.0.0.1', port: role === 'primary' ? pp : sp },
      peer: { host: '127.0.0.1', port: role === 'primary' ? sp : pp },
      local: role === 'primary' ? pair.P.qmp : pair.S.qmp,
      colo: role === 'primary' ? new QemuNativeColo(pair.P.qmp, null, pair.colo.opts) : new QemuNativeColo(null, pair.S.qmp, pair.colo.opts),
      ...(o.intervalMs ? { intervalMs: o.intervalMs } : {}),
      ...(o.missCount ? { missCount: o.missCount } : {}),
    });
  const agents = { primary: agent('primary'), secondary: agent('secondary') };
  const survivorRole = o.victim === 'primary' ? 'secondary' : 'primary';
  const victim = o.victim === 'primary' ? pair.P : pair.S;
  const survivor = o.victim === 'primary' ? pair.S : pair.P;
  const load = new WriteLoad(pair.P, { rate: o.rate ?? 600, blocks: DISK / BLOCK });
  const run: DrillRun = { n, ok: false, writes: 0, acked: 0, failed: 0, rate: 0, checkpoints: 0, inflightCheckpoint: false, killToDetectMs: NaN, failoverMs: NaN, killToServingMs: NaN, verdict: null };
  // ends the checkpoint driver at the kill (or on any failure before it)
  const driving = new AbortController();
  try {
    await agents.primary.start();
    await agents.secondary.start();
    // QEMU 7.2 can lose writes of the first epoch after COLO entry on a later failover
    await firstCheckpoint(pair, 10_000 * scale);
    load.start();
    const driver = (async () => {
      if (drained <= 0) return;
      while (!driving.signal.aborted) {
        await sleep(drained);
        if (driving.signal.aborted || !(await load.quiesce())) break;
        // the exact detector: a checkpoint begun after the request, or the kill aborts the wait
        await pair.colo.checkpoint({ delayMs: 600_000, timeoutMs: 5000 * scale, signal: driving.signal }).catch(() => undefined);
        load.resume();
      }
    })();
    const [lo, hi] = [o.minLoadMs ?? 300, o.maxLoadMs ?? 1200];
    await sleep(lo + Math.random() * (hi - lo));
    const killPerf = performance.now();
    const killAt = wallNow();
    await victim.kill('SIGKILL');
    driving.abort();
    load.resume();
    const outcomeMs = 15_000 * scale;
    const rep: HaReport = await Promise.race([agents[survivorRole].outcome, sleep(outcomeMs).then((): HaReport => ({ event: 'error', role: survivorRole, node: survivorRole, peer: null, reason: `no outcome within ${outcomeMs} ms` }))]);
    if (rep.event !== 'failover') throw new ColoXlError('LAB_DRILL_NO_FAILOVER', `${survivorRole}: ${rep.event}: ${rep.reason}`);
    run.killToDetectMs = rep.detectedAt! - killPerf;
    run.failoverMs = rep.failoverMs!;
    run.killToServingMs = rep.doneAt! - killPerf;
    // a primary that lost its secondary goes on serving the load for a while
    if (o.victim === 'secondary') await sleep(300);
    await load.stop();
    await driver;
    const deadline = Date.now() + 5000 * scale;
    while (o.victim === 'secondary' && load.writes.some((w) => w.ackAt === undefined && !w.failed) && Date.now() < deadline) await sleep(10);
    if (o.victim === 'primary') await waitFailoverCommit(survivor.qmp, { timeoutMs: 30_000 * scale });
    run.checkpoints = pair.colo.checkpoints().completed;
    await survivor.stop(3000);
    const raw = rawImage(o.victim === 'primary' ? pair.secondaryImage : pair.primaryImage, join(o.dir, `d${n}.raw`));
    if (o.victim === 'primary') {
      const r = verifyPrimaryKill(raw, load.writes, parseCheckpoints(trace), killAt);
      run.verdict = r.v;
      run.inflightCheckpoint = r.inflight;
    } else {
      run.verdict = verifyDisk(raw, load.writes, (w) => (w.ackAt !== undefined ? 'must' : 'either'));
    }
    run.writes = load.writes.length;
    run.acked = load.acked;
    run.failed = load.failed + (o.victim === 'secondary' ? load.writes.filter((w) => w.ackAt === undefined && !w.failed).length : 0);
    run.rate = load.achievedRate;
    run.ok = run.verdict.ok && (o.victim === 'primary' || run.failed === 0);
  } catch (e) {
    run.error = (e as Error).message;
  } finally {
    driving.abort();
    await load.stop();
    await agents.primary.stop();
    await agents.secondary.stop();
    await pair.stop();
    for (const f of ['p', 's', 'a', 'h']) rmSync(join(o.dir, `d${n}-${f}.qcow2`), { force: true });
  }
  return run;
}

export interface DrillSummary {
  victim: 'primary' | 'secondary';
  runs: number;
  passed: number;
  failed: number;
  writes: number;
  acked: number;
  failedWrites: number;
  inflightCheckpoints: number;
  minRate: number;
  maxKillToServingMs: number;
  medianKillToServingMs: number;
  results: DrillRun[];
}

export async function runDrill(o: DrillOptions): Promise<DrillSummary> {
  const results: DrillRun[] = [];
  const qemus = o.qemus ?? new QemuGroup();
  try {
    for (let i = 1; i <= o.runs; i++) {
      const r = await runDrillOnce({ ...o, qemus }, i);
      results.push(r);
      o.onRun?.(r);
    }
  } finally {
    if (!o.qemus) await qemus.stopAll();
  }
  const serve = results.map((r) => r.killToServingMs).filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return {
    victim: o.victim,
    runs: results.length,
    passed: results.filter((r) => r.ok).length,
    failed: results.filter((r) => !r.ok).length,
    writes: results.reduce((s, r) => s + r.writes, 0),
    acked: results.reduce((s, r) => s + r.acked, 0),
    failedWrites: results.reduce((s, r) => s + r.failed, 0),
    inflightCheckpoints: results.filter((r) => r.inflightCheckpoint).length,
    minRate: Math.min(...results.map((r) => r.rate)),
    maxKillToServingMs: serve[serve.length - 1] ?? NaN,
    medianKillToServingMs: serve[Math.floor(serve.length / 2)] ?? NaN,
    results,
  };
}
