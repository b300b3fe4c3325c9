/**
 * Live migration with local-disk mirroring (issue 8) on two real QEMUs on loopback: a 1 GiB
 * qcow2 disk holding 256 MiB of data. Measured in the same run, alternating: our flow (mirror to
 * the destination's NBD export, then memory) and the floor — `qemu-img convert` of the same image
 * into a fresh destination's NBD export, which is the fastest way to move those bytes over NBD.
 * Targets: mirror throughput ≥ 80% of the floor's; downtime under 100 ms.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { migrateDomain } from '../lib/migrate/source.js';
import { createImage, freePort, pickAccel, requireQemu, startQemu, stopAllQemus } from '../test/support/qemu.js';
import { makeDir, startPair, writeOffline } from '../test/migrate/harness.js';

const ROUNDS = Number(process.env.MIGRATE_BENCH_ROUNDS ?? 3);
const DATA_MIB = 256;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** 256 MiB of non-zero data in four 64 MiB extents spread over the 1 GiB disk. */
function fill(file: string): void {
  for (let i = 0; i < 4; i++) writeOffline(file, `write -P 0x${(0x31 + i).toString(16)} ${i * 256}M 64M`);
}

/** The floor: qemu-img convert of the source image into an NBD export of a fresh 1 GiB qcow2. */
async function floorMs(dir: string, src: string): Promise<number> {
  const dst = createImage(join(dir, 'floor.qcow2'), '1G');
  const q = await startQemu('floor', ['-machine', 'pc', '-accel', pickAccel(), '-nodefaults', '-display', 'none', '-m', '64',
    '-drive', `if=ide,index=0,id=disk0,media=disk,cache=writeback,file=${dst},format=qcow2`, '-incoming', 'defer'], dir);
  try {
    const port = await freePort();
    await q.qmp.execute('nbd-server-start', { addr: { type: 'inet', data: { host: '127.0.0.1', port: String(port) } } });
    await q.qmp.execute('nbd-server-add', { device: 'disk0', writable: true });
    const t = process.hrtime.bigint();
    const r = spawnSync('/usr/bin/qemu-img', ['convert', '-n', '-U', '-f', 'qcow2', '-O', 'raw', src, `nbd://127.0.0.1:${port}/disk0`], { encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (r.status !== 0) throw new Error(`qemu-img convert: ${r.stderr}`);
    return ms;
  } finally {
    await q.stop();
    rmSync(dst, { force: true });
  }
}

async function migrateOnce(dir: string, floorFirst: boolean): Promise<{ total: number; mirror: number; downtime: number; floor: number }> {
  const pair = await startPair(dir, [{ device: 'disk0', size: '1G' }], fill);
  try {
    // the floor reads the very image the mirror copies (-U: the source QEMU may hold it); the
    // order alternates between rounds so that neither always finds the page cache warmer
    const src = join(pair.srcDir, 'disk0.qcow2');
    let floor = floorFirst ? await floorMs(dir, src) : 0;
    const r = await migrateDomain({ qmp: pair.source.qmp, peer: pair.peer, address: '127.0.0.1', pollMs: 20 });
    await (await pair.dest).destroy();
    if (!floorFirst) floor = await floorMs(dir, src);
    return { total: r.totalMs, mirror: r.mirrorMs, downtime: r.downtimeMs, floor };
  } finally {
    await pair.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  requireQemu();
  const base = makeDir('bench');
  const rows: Array<{ total: number; mirror: number; downtime: number; floor: number }> = [];
  try {
    for (let i = 0; i < ROUNDS; i++) rows.push(await migrateOnce(join(base, `r${i}`), i % 2 === 0));
  } finally {
    await stopAllQemus();
    rmSync(base, { recursive: true, force: true });
  }
  const mbps = (ms: number): string => `${((DATA_MIB * 1000) / ms).toFixed(0)} MiB/s`;
  const mirror = median(rows.map((r) => r.mirror));
  const floor = median(rows.map((r) => r.floor));
  const downtime = median(rows.map((r) => r.downtime));
  const total = median(rows.map((r) => r.total));
  console.log(`1 GiB disk, ${DATA_MIB} MiB of data, ${ROUNDS} rounds, accel ${pickAccel()} (medians)`);
  console.log(`  floor: qemu-img convert → NBD   ${floor.toFixed(0).padStart(6)} ms  ${mbps(floor)}`);
  console.log(`  colo-xl migrate: mirror phase   ${mirror.toFixed(0).padStart(6)} ms  ${mbps(mirror)}`);
  const paired = median(rows.map((r) => r.floor / r.mirror));
  console.log(`  mirror throughput / floor       ${paired.toFixed(2)}×  (median of the per-round ratios; target ≥ 0.80)`);
  console.log(`  total time (describe → quit)    ${total.toFixed(0).padStart(6)} ms`);
  console.log(`  downtime (QEMU's figure)        ${downtime.toFixed(0).padStart(6)} ms  (target < 100 ms)`);
  console.log(`  rounds: ${rows.map((r) => `mirror ${r.mirror} / floor ${r.floor.toFixed(0)} / downtime ${r.downtime} ms`).join('; ')}`);
}
