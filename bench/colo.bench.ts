/**
 * Libxl-style COLO disk replication on two real QEMUs (TCG, as on a Xen host without KVM here):
 * set-up time, checkpoint latency (p50/p99) and failover time (SIGKILL of the primary → the
 * secondary committed and serving), each measured for our library (XenDiskReplication over
 * QMPClient) and for the same QMP commands written by a minimal raw socket script, alternating
 * in the same run on fresh QEMU pairs. The raw script is the floor; the target is under 5 ms of
 * orchestration overhead per checkpoint and per failover above it. The QEMU-native flow under
 * KVM is measured alongside (colo-native.ts).
 */
import { join } from 'node:path';
import { XenDiskReplication } from '../lib/colo/replication.js';
import { runNative } from './colo-native.js';
import { alternatePairs, type BenchPair } from './pairs.js';
import { printComparison, rawNbdExport, withRawPair, type Sample } from './raw-qmp.js';
import { commonArgs, createImage, freePort, libxlColoDriveArgs, type QemuGroup, requireQemu } from '../test/support/qemu.js';

const ROUNDS = Number(process.env.COLO_BENCH_ROUNDS ?? 3);
const CHECKPOINTS = Number(process.env.COLO_BENCH_CHECKPOINTS ?? 50);
const ACCEL = (process.env.COLO_BENCH_ACCEL ?? 'tcg') as 'tcg' | 'kvm';

interface Pair extends BenchPair {
  port: number;
}

async function startPair(dir: string, qemus: QemuGroup): Promise<Pair> {
  const port = await freePort();
  const d = {
    index: 0,
    devid: 768,
    exportName: 'e1',
    target: createImage(join(dir, 's.qcow2')),
    activeDisk: createImage(join(dir, 'a.qcow2')),
    hiddenDisk: createImage(join(dir, 'h.qcow2')),
  };
  const s = await qemus.spawn('s', [...commonArgs(ACCEL), ...libxlColoDriveArgs('secondary', d)], dir);
  const p = await qemus.spawn('p', [...commonArgs(ACCEL), ...libxlColoDriveArgs('primary', { ...d, target: createImage(join(dir, 'p.qcow2')) })], dir);
  return { dir, port, p, s };
}

const ms = (t0: number): number => performance.now() - t0;

async function ours(x: Pair): Promise<Sample> {
  const r = new XenDiskReplication(x.p.qmp, x.s.qmp, [{ devid: 768, exportName: 'e1', host: '127.0.0.1', port: x.port }]);
  let t = performance.now();
  await r.setupSecondary();
  await r.setupPrimary();
  const setup = ms(t);
  const checkpoints: number[] = [];
  for (let i = 0; i < CHECKPOINTS; i++) {
    t = performance.now();
    await r.checkpoint();
    checkpoints.push(ms(t));
  }
  t = performance.now();
  await x.p.kill('SIGKILL');
  await r.failoverSecondary();
  return { setup, checkpoints, failover: ms(t) };
}

async function raw(x: Pair): Promise<Sample> {
  return withRawPair(x, async (p, s) => {
    let t = performance.now();
    await rawNbdExport(s, x.port, 'e1');
    await s.cmd('{"execute":"xen-set-replication","arguments":{"enable":true,"primary":false}}');
    await p.cmd(
      `{"execute":"human-monitor-command","arguments":{"command-line":"drive_add -n buddy driver=replication,mode=primary,file.driver=nbd,file.host=127.0.0.1,file.port=${x.port},file.export=e1,node-name=colo_node768"}}`,
    );
    await p.cmd('{"execute":"x-blockdev-change","arguments":{"parent":"e1","node":"colo_node768"}}');
    await p.cmd('{"execute":"xen-set-replication","arguments":{"enable":true,"primary":true}}');
    const setup = ms(t);
    const checkpoints: number[] = [];
    for (let i = 0; i < CHECKPOINTS; i++) {
      t = performance.now();
      await Promise.all([p.cmd('{"execute":"query-xen-replication-status"}'), s.cmd('{"execute":"query-xen-replication-status"}')]);
      await s.cmd('{"execute":"xen-colo-do-checkpoint"}');
      await p.cmd('{"execute":"xen-colo-do-checkpoint"}');
      checkpoints.push(ms(t));
    }
    t = performance.now();
    await x.p.kill('SIGKILL');
    await s.cmd('{"execute":"xen-set-replication","arguments":{"enable":false,"primary":false,"failover":true}}');
    await s.cmd('{"execute":"nbd-server-stop"}');
    // the same completion test as ours: commit filter gone and a clean status
    for (;;) {
      const nodes = await s.cmd('{"execute":"query-named-block-nodes","arguments":{"flat":true}}');
      const st = await s.cmd('{"execute":"query-xen-replication-status"}');
      if (!nodes.includes('"mirror_top"') && st.includes('"error": false')) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    return { setup, checkpoints, failover: ms(t) };
  });
}

async function runLibxl(): Promise<void> {
  requireQemu();
  const samples = await alternatePairs(ROUNDS, 'libxl', startPair, ours, raw);
  const rows = printComparison(
    `libxl-style COLO disk replication, accel ${ACCEL}, ${ROUNDS} pairs each, ${CHECKPOINTS} checkpoints per pair`,
    samples.ours,
    samples.raw,
  );
  const over = Math.max(rows[1]![1] - rows[1]![2], rows[3]![1] - rows[3]![2]);
  console.log(`target: orchestration overhead < 5 ms per checkpoint and failover: ${over < 5 ? 'met' : 'NOT met'} (${over.toFixed(2)} ms)`);
}

export async function run(): Promise<void> {
  await runLibxl();
  await runNative();
}
