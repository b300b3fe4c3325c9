import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { migrateDomain } from '../../lib/migrate/source.js';
import type { MigrateEvent, MigrateReport } from '../../lib/migrate/types.js';
import { QMPClient } from '../../lib/qmp/client.js';
import { createImage, ioVerdict, pickAccel, qemuIoOffline } from '../support/qemu.js';
import { compareImages, migrationSuite, writeOffline, type Pair } from './harness.js';

describe(`migrate: live migration with local-disk mirroring, two real QEMUs on loopback (accel ${pickAccel()})`, function () {
  this.timeout(60_000);
  const { dir, start } = migrationSuite('flow');

  /** Runs the flow; the first disk event triggers a guest write of 0xcd at 1M on that disk. */
  async function run(p: Pair, events: MigrateEvent[], extra: { mirrorSpeed?: number } = {}): Promise<MigrateReport> {
    let during: Promise<string> | null = null;
    const report = await migrateDomain({
      qmp: p.source.qmp,
      peer: p.peer,
      address: '127.0.0.1',
      pollMs: 20,
      ...extra,
      onEvent: (e) => {
        events.push(e);
        // a guest write while the mirror runs must reach the destination too
        if (e.type === 'disk' && during === null) during = p.source.qemuIo(e.device, 'write -P 0xcd 1M 64k');
      },
    });
    assert.ok(during !== null, 'the mirror reported progress');
    assert.equal(ioVerdict(await during), 'ok', 'write during the mirror');
    return report;
  }

  async function sourceExit(p: Pair): Promise<number | null> {
    const proc = p.source.proc;
    return await new Promise((r) => (proc.exitCode !== null ? r(proc.exitCode) : proc.once('exit', (c) => r(c))));
  }

  it('one disk: patterns written before and during the mirror arrive; destination runs, source quits', async () => {
    const pair = await start(join(dir, 'one'), [{ device: 'disk0', size: '64M' }], (f) => {
      writeOffline(f, 'write -P 0xab 0 64k');
      writeOffline(f, 'write -P 0x11 20M 8M');
    });
    const p = pair;
    const events: MigrateEvent[] = [];
    const report = await run(p, events);
    const result = await p.received;
    assert.equal(result.outcome, 'running');
    assert.equal(result.status, 'running', 'the destination VM runs');
    const steps = events.filter((e) => e.type === 'step').map((e) => (e as { step: string }).step);
    assert.deepEqual(steps, ['describe', 'prepare', 'mirror-start', 'mirror-sync', 'migrate-incoming', 'migrate', 'mirror-end', 'finish', 'source-quit']);
    assert.ok(events.some((e) => e.type === 'disk' && e.ready && e.remaining === 0), 'a disk event shows the mirror in sync');
    assert.ok(events.some((e) => e.type === 'memory' && e.status === 'completed'), 'memory progress up to completed');
    assert.ok(report.downtimeMs >= 0 && report.totalMs >= report.migrateMs);
    // the source was told to quit and exits by itself, with status 0
    assert.equal(await sourceExit(p), 0, 'source QEMU quit cleanly');
    // the destination owns the disk now: it reads every pattern online
    const dq = await QMPClient.open(report.destination.qmp, { retryMs: 2000 });
    try {
      assert.equal((await dq.execute<{ status: string }>('query-status')).status, 'running');
      const blocks = await dq.execute<Array<{ device: string; inserted?: { file: string } }>>('query-block');
      assert.equal(blocks.find((b) => b.device === 'disk0')?.inserted?.file, join(p.dstDir, 'disk0.qcow2'));
      await dq.execute('quit');
    } finally {
      await dq.disconnect();
    }
    await (await p.dest).destroy();
    const src = join(p.srcDir, 'disk0.qcow2');
    const dst = join(p.dstDir, 'disk0.qcow2');
    assert.equal(compareImages(src, dst), '', 'destination disk byte-identical to the source');
    for (const pat of ['read -P 0xab 0 64k', 'read -P 0xcd 1M 64k', 'read -P 0x11 20M 8M']) {
      assert.equal(ioVerdict(qemuIoOffline(dst, pat)), 'ok', `${pat} on the destination image`);
    }
  });

  it('two disks mirrored at once, with a bandwidth limit: both byte-identical', async () => {
    const pair = await start(join(dir, 'two'), [{ device: 'disk0', size: '32M' }, { device: 'disk1', size: '48M' }], (f, i) => {
      writeOffline(f, `write -P 0x${i ? '22' : '11'} 0 4M`);
      writeOffline(f, `write -P 0x${i ? '44' : '33'} 30M 1M`);
    });
    const p = pair;
    const events: MigrateEvent[] = [];
    const speed = 32 * 1024 * 1024;
    const report = await run(p, events, { mirrorSpeed: speed });
    assert.equal((await p.received).status, 'running');
    assert.deepEqual(report.disks.map((d) => d.device), ['disk0', 'disk1']);
    const devices = new Set(events.filter((e) => e.type === 'disk').map((e) => (e as { device: string }).device));
    assert.deepEqual([...devices].sort(), ['disk0', 'disk1'], 'progress for each disk');
    // QEMU's limit also counts the zeroed areas: 32 MiB at 32 MiB/s is about a second
    assert.ok(report.mirrorMs >= 500, `mirror took ${report.mirrorMs} ms under a ${speed} B/s limit`);
    assert.equal(await sourceExit(p), 0);
    await (await p.dest).destroy();
    for (const d of ['disk0', 'disk1']) {
      assert.equal(compareImages(join(p.srcDir, `${d}.qcow2`), join(p.dstDir, `${d}.qcow2`)), '', `${d} identical`);
    }
    assert.equal(ioVerdict(qemuIoOffline(join(p.dstDir, 'disk0.qcow2'), 'read -P 0x33 30M 1M')), 'ok');
    assert.equal(ioVerdict(qemuIoOffline(join(p.dstDir, 'disk1.qcow2'), 'read -P 0x44 30M 1M')), 'ok');
  });

  it('a disk with a shared backing file: only the top layer is mirrored (sync top)', async () => {
    const base = join(dir, 'base.qcow2');
    createImage(base, '32M');
    writeOffline(base, 'write -P 0x5a 0 8M');
    const pair = await start(join(dir, 'top'), [{ device: 'disk0', size: '32M', backing: base }], (f) => writeOffline(f, 'write -P 0x66 16M 1M'));
    const p = pair;
    const report = await run(p, []);
    assert.equal(await sourceExit(p), 0);
    await (await p.dest).destroy();
    const dst = join(p.dstDir, 'disk0.qcow2');
    assert.equal(compareImages(join(p.srcDir, 'disk0.qcow2'), dst), '', 'guest-visible contents identical');
    assert.equal(ioVerdict(qemuIoOffline(dst, 'read -P 0x5a 0 1M')), 'ok', 'the base shows through the backing file');
    // the 8 MiB of the base were not copied: the destination's top layer holds only the top's data
    const map = spawnSync('/usr/bin/qemu-img', ['map', '-U', '--output=json', dst], { encoding: 'utf8' }).stdout;
    const own = (JSON.parse(map) as Array<{ depth: number; data: boolean; length: number }>).filter((x) => x.depth === 0 && x.data);
    const ownBytes = own.reduce((n, x) => n + x.length, 0);
    assert.ok(ownBytes < 4 * 1024 * 1024, `top layer holds ${ownBytes} bytes`);
    assert.ok(report.disks[0]!.bytes < 8 * 1024 * 1024);
  });
});
