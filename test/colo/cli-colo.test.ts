import assert from 'node:assert/strict';
import { ioVerdict, pickAccel, requireQemu, stopAllQemus } from '../support/qemu.js';
import { ColoPair, imageDifference } from './pair.js';
import { scaled } from '../support/slowness.js';
import { cli } from '../support/cli.js';

describe(`colo-xl colo: one step per call on two real QEMUs (accel ${pickAccel()})`, function () {
  this.timeout(scaled(60_000));
  let pair: ColoPair;
  let common: string[];
  before(async () => {
    requireQemu();
    pair = await ColoPair.start(1);
    common = ['-P', pair.primary.controlPath, '-S', pair.secondary.controlPath, '-d', '768:e1', '-n', `127.0.0.1:${pair.port}`];
  });
  after(async () => {
    await pair?.close();
    await stopAllQemus();
  });

  it('refuses bad usage with status 2 and says why', async () => {
    let r = await cli(['colo']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^colo-xl colo: one step is needed: start, checkpoint, status, failover, resume, stop\n/);
    r = await cli(['colo', 'start', '-P', 'p.sock']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^colo-xl colo start: --secondary is needed\n/);
    r = await cli(['colo', 'start', ...common.slice(0, 4), '-d', 'hda']);
    assert.match(r.stderr, /^colo-xl colo start: bad --disk 'hda': expected <devid>:<export>, e\.g\. 768:e1\n/);
  });

  it('an unreachable socket is status 1 with the QMP error', async () => {
    const r = await cli(['colo', 'status', '-P', `${pair.dir}/nothing.qmp`]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^colo-xl colo status: cannot connect to QMP at .*nothing\.qmp: .*ENOENT/);
  });

  it('start, then checkpoints that carry primary writes', async () => {
    let r = await cli(['colo', 'start', ...common]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^secondary nbd-server-start\/add +\d+\.\d ms$/m);
    assert.match(r.stdout, /^primary +drive_add \+ x-blockdev-change e1 +\d+\.\d ms$/m);
    assert.match(r.stdout, /replicating 1 disk\(s\) to 127\.0\.0\.1:\d+\n$/);
    await pair.primary.qemuIo('e1', 'write -P 0xab 0 64k');
    r = await cli(['colo', 'checkpoint', '-c', '3', '--json', ...common]);
    assert.equal(r.status, 0, r.stderr);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; n?: number; ms?: number });
    assert.deepEqual(events.filter((e) => e.kind === 'checkpoint').map((e) => e.n), [1, 2, 3]);
    assert.ok(events.every((e) => e.kind !== 'checkpoint' || typeof e.ms === 'number'));
    assert.equal(ioVerdict(await pair.secondary.qemuIo('top-colo', 'read -P 0xab 0 64k')), 'ok');
  });

  it('status reports both sides', async () => {
    const r = await cli(['colo', 'status', ...common.slice(0, 4)]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'primary   vm prelaunch, replication ok\nsecondary vm prelaunch, replication ok\n');
  });

  it('failover --side secondary after the primary dies: the secondary holds the last checkpoint', async () => {
    const d = pair.disks[0]!;
    const ref = await pair.snapshotPrimary(d, 'cli');
    await pair.primary.qemuIo('e1', 'write -P 0x5a 4M 64k');
    await pair.primary.kill('SIGKILL');
    const r = await cli(['colo', 'failover', '--json', '-S', pair.secondary.controlPath]);
    assert.equal(r.status, 0, r.stderr);
    const last = JSON.parse(r.stdout.trim().split('\n').pop()!) as { kind: string; side: string; ms: number };
    assert.equal(last.kind, 'result');
    assert.equal(last.side, 'secondary');
    const st = await cli(['colo', 'status', '-S', pair.secondary.controlPath]);
    assert.equal(st.stdout, 'secondary vm prelaunch, replication ok\n');
    await pair.secondary.stop();
    assert.equal(imageDifference(ref, d.target), null);
  });
});

describe('colo-xl colo failover --side primary, resume and stop (real QEMUs)', function () {
  this.timeout(scaled(60_000));
  let pair: ColoPair;
  before(async () => {
    requireQemu();
    pair = await ColoPair.start(1);
  });
  after(async () => {
    await pair?.close();
    await stopAllQemus();
  });

  it('the primary survives its secondary, is resumed with a new one (progress events), then stopped', async () => {
    const nbd = ['-d', '768:e1', '-n', `127.0.0.1:${pair.port}`];
    assert.equal((await cli(['colo', 'start', '-P', pair.primary.controlPath, '-S', pair.secondary.controlPath, ...nbd])).status, 0);
    await pair.primary.qemuIo('e1', 'write -P 0x61 0 64k');
    assert.equal((await cli(['colo', 'checkpoint', '-P', pair.primary.controlPath, '-S', pair.secondary.controlPath])).status, 0);
    await pair.secondary.kill('SIGKILL');
    let r = await cli(['colo', 'failover', '--side', 'primary', '-P', pair.primary.controlPath, ...nbd]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^primary took over in \d+\.\d ms\n$/m);
    await pair.primary.qemuIo('e1', 'write -P 0x62 1M 64k');
    pair.secondary = await pair.startSecondary('secondary2', true);
    r = await cli(['colo', 'resume', '--json', '-P', pair.primary.controlPath, '-S', pair.secondary.controlPath, ...nbd]);
    assert.equal(r.status, 0, r.stderr);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; offset?: number; len?: number; state?: string });
    const progress = events.filter((e) => e.kind === 'progress');
    assert.ok(progress.length >= 1);
    assert.equal(progress.at(-1)!.offset, progress.at(-1)!.len, 'last progress event is complete');
    assert.deepEqual(events.at(-1), { kind: 'result', step: 'resume', state: 'replicating' });
    assert.equal(ioVerdict(await pair.secondary.qemuIo('top-colo', 'read -P 0x61 0 64k')), 'ok');
    assert.equal(ioVerdict(await pair.secondary.qemuIo('top-colo', 'read -P 0x62 1M 64k')), 'ok');
    r = await cli(['colo', 'stop', '-P', pair.primary.controlPath, '-S', pair.secondary.controlPath, ...nbd]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /replication stopped; the primary goes on alone\n$/);
    const st = await cli(['colo', 'status', '-S', pair.secondary.controlPath]);
    assert.equal(st.status, 0, 'the secondary is not left in "I/O error"');
    assert.equal(ioVerdict(await pair.primary.qemuIo('e1', 'write -P 0x63 2M 64k')), 'ok');
  });
});
