/**
 * QEMU-native COLO under KVM (TCG deadlocks the primary after its first checkpoint on QEMU 7.2):
 * set-up (NBD export, replication node, x-colo migration until both sides are in COLO), checkpoint
 * latency from QEMU's own trace (checkpoint-request → vmstate-loaded, the same QEMU work either
 * way) and failover (SIGKILL of the primary → the secondary out of COLO and running), for our
 * QemuNativeColo and for the same QMP commands from a minimal raw script, on fresh pairs.
 */
import { join } from 'node:path';
import { nativePrimaryArgs, nativeSecondaryArgs } from '../lib/colo/native-args.js';
import { QemuNativeColo } from '../lib/colo/native.js';
import { commonArgs, createImage, freePort, pickAccel, type QemuGroup } from '../lib/qemu/process.js';
import { alternatePairs, type BenchPair } from './pairs.js';
import { printComparison, rawNbdExport, withRawPair, type Sample } from './raw-qmp.js';

const ROUNDS = Number(process.env.COLO_BENCH_ROUNDS ?? 3);
const DELAY = 200;
const WATCH_MS = 2000;

interface Pair extends BenchPair {
  nbd: number;
  mig: number;
}

async function startPair(dir: string, qemus: QemuGroup): Promise<Pair> {
  const [nbd, mig] = [await freePort(), await freePort()];
  const disk = { index: 0, image: createImage(join(dir, 's.qcow2')), activeDisk: createImage(join(dir, 'a.qcow2')), hiddenDisk: createImage(join(dir, 'h.qcow2')) };
  const trace = ['-msg', 'timestamp=on', '-trace', 'colo_*'];
  const s = await qemus.spawn('s', [...commonArgs('kvm').filter((a) => a !== '-S'), ...trace, ...nativeSecondaryArgs([disk], { host: '127.0.0.1', port: mig })], dir);
  const p = await qemus.spawn('p', [...commonArgs('kvm'), ...trace, ...nativePrimaryArgs([{ index: 0, image: createImage(join(dir, 'p.qcow2')) }])], dir);
  return { dir, nbd, mig, p, s };
}

/** checkpoint-request → vmstate-loaded on the primary, in ms, from `-trace colo_*` lines. */
function traceCheckpoints(out: string): number[] {
  const res: number[] = [];
  let start: number | null = null;
  for (const m of out.matchAll(/^\d+@(\d+\.\d+):colo_\w+_message \w+ '([\w-]+)'/gm)) {
    const t = Number(m[1]) * 1000;
    if (m[2] === 'checkpoint-request') start = t;
    else if (m[2] === 'vmstate-loaded' && start !== null) {
      res.push(t - start);
      start = null;
    }
  }
  return res.slice(1); // the first one carries the whole RAM
}

async function ours(x: Pair): Promise<Sample> {
  const colo = new QemuNativeColo(x.p.qmp, x.s.qmp, { disks: [0], nbd: { host: '127.0.0.1', port: x.nbd }, migration: { host: '127.0.0.1', port: x.mig }, checkpointDelayMs: DELAY });
  let t = performance.now();
  await colo.prepareSecondary();
  await colo.start();
  const setup = performance.now() - t;
  await new Promise((r) => setTimeout(r, WATCH_MS));
  const checkpoints = traceCheckpoints(x.p.output);
  t = performance.now();
  await x.p.kill('SIGKILL');
  await colo.failoverSecondary();
  return { setup, checkpoints, failover: performance.now() - t };
}

async function raw(x: Pair): Promise<Sample> {
  return withRawPair(x, async (p, s) => {
    let t = performance.now();
    await rawNbdExport(s, x.nbd, 'parent0');
    await p.cmd(
      `{"execute":"human-monitor-command","arguments":{"command-line":"drive_add -n buddy driver=replication,mode=primary,file.driver=nbd,file.host=127.0.0.1,file.port=${x.nbd},file.export=parent0,node-name=replication0"}}`,
    );
    await p.cmd('{"execute":"x-blockdev-change","arguments":{"parent":"colo-disk0","node":"replication0"}}');
    await p.cmd('{"execute":"migrate-set-capabilities","arguments":{"capabilities":[{"capability":"x-colo","state":true}]}}');
    await p.cmd(`{"execute":"migrate-set-parameters","arguments":{"x-checkpoint-delay":${DELAY}}}`);
    await p.cmd(`{"execute":"migrate","arguments":{"uri":"tcp:127.0.0.1:${x.mig}"}}`);
    while (!(await p.cmd('{"execute":"query-migrate"}')).includes('"status": "colo"')) await new Promise((r) => setTimeout(r, 5));
    while (!(await s.cmd('{"execute":"query-colo-status"}')).includes('"mode": "secondary"')) await new Promise((r) => setTimeout(r, 5));
    const setup = performance.now() - t;
    await new Promise((r) => setTimeout(r, WATCH_MS));
    const checkpoints = traceCheckpoints(x.p.output);
    t = performance.now();
    await x.p.kill('SIGKILL');
    await s.cmd('{"execute":"nbd-server-stop"}');
    await s.cmd('{"execute":"x-colo-lost-heartbeat"}');
    while (!(await s.cmd('{"execute":"query-colo-status"}')).includes('"mode": "none"')) await new Promise((r) => setTimeout(r, 5));
    return { setup, checkpoints, failover: performance.now() - t };
  });
}

export async function runNative(): Promise<void> {
  if (pickAccel() !== 'kvm') {
    console.log('\nQEMU-native COLO: needs KVM (/dev/kvm); QEMU 7.2 deadlocks a TCG primary after its first checkpoint — not measured');
    return;
  }
  const samples = await alternatePairs(ROUNDS, 'native', startPair, ours, raw);
  const n = samples.ours.flatMap((s) => s.checkpoints).length;
  const rows = printComparison(
    `\nQEMU-native COLO, accel kvm, ${ROUNDS} pairs each, x-checkpoint-delay ${DELAY} ms, ${n} checkpoints timed from QEMU's trace`,
    samples.ours,
    samples.raw,
  );
  const over = rows[3]![1] - rows[3]![2];
  console.log(`target: failover overhead < 5 ms: ${over < 5 ? 'met' : 'NOT met'} (${over.toFixed(2)} ms); checkpoints are QEMU's own (no orchestration per checkpoint)`);
}
