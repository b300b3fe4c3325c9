import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { AbortedError } from '../../lib/errors.js';
import { ControlClient, type ChannelMessage } from '../../lib/migrate/channel.js';
import { MigrateChannelError } from '../../lib/migrate/types.js';
import { ProgressPrinter } from '../../lib/migrate/progress.js';
import type { VmDescription } from '../../lib/migrate/types.js';
import { describeSource, ideIndexFromName, vmArgv } from '../../lib/migrate/vm.js';
import { createImage, pickAccel, qemuImg, requireQemu, startQemu, stopAllQemus } from '../support/qemu.js';
import { makeDir } from './harness.js';

describe('migrate: VM description, control channel, progress text', function () {
  const dir = makeDir('units');
  after(async () => {
    await stopAllQemus();
    rmSync(dir, { recursive: true, force: true });
  });

  it('IDE positions from QEMU drive names; vmArgv escapes commas in paths', () => {
    assert.equal(ideIndexFromName('ide0-hd0'), 0);
    assert.equal(ideIndexFromName('ide0-hd1'), 1);
    assert.equal(ideIndexFromName('ide1-hd0'), 2);
    assert.equal(ideIndexFromName('disk0'), null);
    const vm: VmDescription = { machine: 'pc-i440fx-7.2', accel: 'tcg', memoryMiB: 128, disks: [{ device: 'd0', index: 1, file: '/x/a,b.qcow2', format: 'qcow2', size: 1 << 20 }] };
    const argv = vmArgv(vm);
    assert.deepEqual(argv.slice(0, 4), ['-machine', 'pc-i440fx-7.2', '-accel', 'tcg']);
    assert.equal(argv.at(-1), 'if=ide,index=1,id=d0,media=disk,cache=writeback,file=/x/a,,b.qcow2,format=qcow2');
    assert.equal(vmArgv(vm, ['/y/c.qcow2']).at(-1), 'if=ide,index=1,id=d0,media=disk,cache=writeback,file=/y/c.qcow2,format=qcow2');
  });

  it('describeSource on a real QEMU gives back what vmArgv started it from (IDE places, sizes, backing, machine)', async function () {
    this.timeout(30_000);
    requireQemu();
    const base = createImage(join(dir, 'base.qcow2'), '8M');
    const top = join(dir, 'top.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', top, '8M');
    const vm: VmDescription = {
      machine: 'pc-i440fx-7.2',
      accel: pickAccel(),
      memoryMiB: 96,
      disks: [
        { device: 'sys', index: 0, file: createImage(join(dir, 'sys.qcow2'), '24M'), format: 'qcow2', size: 24 << 20 },
        { device: 'data', index: 3, file: top, format: 'qcow2', size: 8 << 20, backing: base, backingFormat: 'qcow2' },
      ],
    };
    const q = await startQemu('describe', [...vmArgv(vm), '-S'], dir);
    try {
      assert.deepEqual(await describeSource(q.qmp), vm);
    } finally {
      await q.stop();
    }
  });

  it('a drive started without an id (as libxl writes them) is described by QEMU\'s name and rebuilt with it', async function () {
    this.timeout(30_000);
    requireQemu();
    const file = createImage(join(dir, 'noid.qcow2'), '8M');
    const args = ['-machine', 'pc', '-accel', pickAccel(), '-nodefaults', '-display', 'none', '-m', '64', '-S'];
    const q = await startQemu('noid', [...args, '-drive', `if=ide,index=1,media=disk,cache=writeback,file=${file},format=qcow2`], dir);
    let vm: VmDescription;
    try {
      vm = await describeSource(q.qmp);
    } finally {
      await q.stop();
    }
    assert.deepEqual(vm.disks, [{ device: 'ide0-hd1', index: 1, file, format: 'qcow2', size: 8 << 20 }]);
    const again = await startQemu('noid-rebuilt', [...vmArgv(vm), '-S'], dir);
    try {
      assert.deepEqual((await describeSource(again.qmp)).disks, vm.disks);
    } finally {
      await again.stop();
    }
  });

  it('the control channel: replies, error replies, notices, stray lines ignored, a closed pipe fails the request', async () => {
    const toDest = new PassThrough();
    const fromDest = new PassThrough();
    const sent: ChannelMessage[] = [];
    toDest.on('data', (b: Buffer) => sent.push(JSON.parse(b.toString()) as ChannelMessage));
    const c = new ControlClient(fromDest, (l) => void toDest.write(l));
    const notices: ChannelMessage[] = [];
    c.onNotice((m) => notices.push(m));
    const r1 = c.request('prepare', { vm: 1 });
    fromDest.write('Welcome to the ssh banner\n{"notice":"destination-died","reason":"x"}\n{"ok":true,"nbd');
    fromDest.write('Port":10809}\n');
    assert.deepEqual(await r1, { ok: true, nbdPort: 10809 });
    assert.deepEqual(sent[0], { op: 'prepare', vm: 1 });
    assert.deepEqual(notices, [{ notice: 'destination-died', reason: 'x' }]);
    const r2 = c.request('incoming');
    fromDest.write('{"ok":false,"error":"incoming: no"}\n');
    await assert.rejects(r2, (e: unknown) => e instanceof MigrateChannelError && e.code === 'MIGRATE_REMOTE_ERROR' && e.message === 'destination: incoming: no');
    const r3 = c.request('finish');
    fromDest.end();
    await assert.rejects(r3, (e: unknown) => e instanceof MigrateChannelError && e.code === 'MIGRATE_CHANNEL_CLOSED' && /closed by the other side/.test(e.message));
    assert.equal(c.closed, 'control channel closed by the other side');
    await assert.rejects(c.request('abort'), /closed/);
  });

  it('the control channel: a request times out, an abort gives it up, close() ends a pending one', async () => {
    const fromDest = new PassThrough();
    const c = new ControlClient(fromDest, () => undefined);
    await assert.rejects(c.request('prepare', {}, { timeoutMs: 20 }), (e: unknown) => e instanceof MigrateChannelError && e.code === 'MIGRATE_CHANNEL_TIMEOUT');
    const ac = new AbortController();
    const aborted = c.request('prepare', {}, { signal: ac.signal });
    ac.abort();
    await assert.rejects(aborted, (e: unknown) => e instanceof AbortedError);
    const pending = c.request('incoming');
    c.close();
    await assert.rejects(pending, (e: unknown) => e instanceof MigrateChannelError && e.code === 'MIGRATE_CHANNEL_CLOSED');
    assert.equal(fromDest.listenerCount('data'), 0, 'close() stops reading');
  });

  it('progress text: rate-limited per disk, always when a disk comes in sync, and the report', () => {
    let out = '';
    const p = new ProgressPrinter((t) => (out += t), 500);
    const disk = (copied: number, ready: boolean, at: number) =>
      p.event({ type: 'disk', device: 'disk0', copied: copied << 20, remaining: (64 - copied) << 20, total: 64 << 20, ready, at });
    p.event({ type: 'step', step: 'mirror-sync', at: 0 });
    disk(16, false, 0);
    disk(20, false, 100);
    disk(64, true, 200);
    p.event({ type: 'memory', status: 'completed', transferredBytes: 3 << 20, remainingBytes: 0, totalBytes: 64 << 20, pagesSent: 16384, dirtyPagesRate: 0, at: 300 });
    p.event({
      type: 'done',
      report: { totalMs: 900, mirrorMs: 600, migrateMs: 50, downtimeMs: 7, disks: [{ device: 'disk0', bytes: 64 << 20 }], memoryBytes: 3 << 20, destination: { pid: 42, qmp: '/run/q' } },
      at: 400,
    });
    assert.equal(
      out,
      'migrate: mirror-sync\n' +
        'migrate: disk disk0: 16.0 MiB copied, 48.0 MiB remaining (25%)\n' +
        'migrate: disk disk0: 64.0 MiB copied, 0.0 MiB remaining (100%), in sync\n' +
        'migrate: memory: 3.0 MiB sent, 0.0 MiB remaining, 16384 pages (completed)\n' +
        'migration done in 900 ms: disks 600 ms (disk0 64.0 MiB), memory 50 ms (3.0 MiB), downtime 7 ms\n' +
        'the domain runs on the destination: QEMU pid 42, QMP /run/q\n',
    );
  });
});
