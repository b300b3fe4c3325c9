import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nativePrimaryArgs, nativeSecondaryArgs, type NativeNic } from '../../lib/colo/native-args.js';
import { QemuNativeColo } from '../../lib/colo/native.js';
import { waitFailoverCommit } from '../../lib/colo/replication.js';
import { commonArgs, createImage, freePort, ioVerdict, pickAccel, qemuIoOffline, type QemuProcess, requireQemu, startQemu, stopAllQemus } from '../support/qemu.js';
import { qemuSuiteDir } from '../support/colo-pair.js';
import { scaled } from '../support/slowness.js';
import { cli } from '../support/cli.js';

const accel = pickAccel();

/**
 * A checkpoint begun after the call and completed (QemuNativeColo.checkpoint, the exact
 * detector), with the period raised to a minute so that none runs while the test pokes the VMs:
 * qemu-io from the monitor during a checkpoint can hang QEMU 7.2's COLO (the primary stalls
 * after checkpoint-reply).
 */
/** A NIC on fresh loopback ports: the netdev's listener and each colo-compare chardev. */
async function nicPorts(): Promise<NativeNic> {
  return {
    netdev: `socket,id=hn0,listen=127.0.0.1:${await freePort()}`,
    primaryHost: '127.0.0.1',
    mirrorPort: await freePort(),
    comparePort: await freePort(),
    compare0Port: await freePort(),
    compareOutPort: await freePort(),
  };
}

async function quietCheckpoint(colo: QemuNativeColo): Promise<void> {
  await colo.checkpoint({ delayMs: 60_000, timeoutMs: scaled(15_000) });
}

describe(`QEMU-native COLO on two real QEMUs (accel ${accel}${accel === 'tcg' ? ': up to the first checkpoint and secondary failover, as QEMU 7.2 deadlocks its TCG primary after it' : ': full cycle'})`, function () {
  this.timeout(scaled(90_000));
  const dir = qemuSuiteDir('colo-xl-native-');
  let nbd: number;
  let mig: number;
  let nic: NativeNic;
  let P: QemuProcess;
  let S: QemuProcess;
  let colo: QemuNativeColo;
  const primaryImage = join(dir, 'primary.qcow2');

  async function startSecondary(name: string, primaryHostPorts: NativeNic): Promise<QemuProcess> {
    const image = createImage(join(dir, `${name}.qcow2`));
    const disk = { index: 0, image, activeDisk: createImage(join(dir, `${name}-active.qcow2`)), hiddenDisk: createImage(join(dir, `${name}-hidden.qcow2`)) };
    const n = { ...primaryHostPorts, netdev: `socket,id=hn0,listen=127.0.0.1:${await freePort()}` };
    return await startQemu(name, [...commonArgs(accel).filter((a) => a !== '-S'), ...nativeSecondaryArgs([disk], { host: '127.0.0.1', port: mig }, n)], dir);
  }

  before(async () => {
    nbd = await freePort();
    mig = await freePort();
    nic = await nicPorts();
    createImage(primaryImage);
    S = await startSecondary('secondary', nic);
    P = await startQemu('primary', [...commonArgs(accel), ...nativePrimaryArgs([{ index: 0, image: primaryImage }], nic)], dir);
    colo = new QemuNativeColo(P.qmp, S.qmp, {
      disks: [0],
      nbd: { host: '127.0.0.1', port: nbd },
      migration: { host: '127.0.0.1', port: mig },
      // only requested checkpoints (see quietCheckpoint); the periodic test sets its own period
      checkpointDelayMs: 60_000,
      nic,
    });
  });

  it('start: NBD export, replication node, x-colo migration; both sides report COLO', async () => {
    await colo.probe();
    await colo.prepareSecondary();
    const ms = await colo.start();
    assert.ok(ms < scaled(10_000), `COLO reached after ${ms} ms`);
    assert.equal((await colo.status('primary')).mode, 'primary');
    assert.equal((await colo.status('secondary')).mode, 'secondary');
  });

  it('a checkpoint brings primary writes into the secondary view and drops secondary-only writes', async () => {
    await P.qemuIo('colo-disk0', 'write -P 0xab 0 64k');
    await P.qemuIo('colo-disk0', 'write -P 0x5c 4M 64k');
    await S.qemuIo('colo-disk0', 'write -P 0xcd 1M 64k');
    await quietCheckpoint(colo);
    assert.equal(ioVerdict(await S.qemuIo('colo-disk0', 'read -P 0xab 0 64k')), 'ok');
    assert.equal(ioVerdict(await S.qemuIo('colo-disk0', 'read -P 0x5c 4M 64k')), 'ok');
    assert.equal(ioVerdict(await S.qemuIo('colo-disk0', 'read -P 0 1M 64k')), 'ok');
  });

  if (accel === 'kvm') {
    it('periodic checkpoints come every x-checkpoint-delay (300 ms)', async () => {
      await P.qemuIo('colo-disk0', 'write -P 0x5d 5M 64k');
      const watch = colo.checkpoints();
      const n = watch.completed;
      await colo.requestCheckpoint(300);
      await watch.reach(n + 4, { timeoutMs: scaled(10_000) });
      await quietCheckpoint(colo);
      assert.equal(ioVerdict(await S.qemuIo('colo-disk0', 'read -P 0x5d 5M 64k')), 'ok');
    });
  }

  it('primary SIGKILLed → secondary failover: COLO_EXIT, the secondary runs and serves the checkpointed data', async () => {
    await P.kill('SIGKILL');
    const ev = await colo.failoverSecondary();
    // COLO_EXIT comes when the peer's connection breaks, possibly after the survivor is out of COLO
    if (ev) assert.equal(ev.data?.mode, 'secondary');
    const st = await colo.status('primary');
    assert.deepEqual([st.mode, st['last-mode']], ['none', 'secondary'], 'the old secondary is now the primary, out of COLO');
    assert.equal((await S.qmp.execute<{ status: string }>('query-status')).status, 'running');
    assert.equal(ioVerdict(await S.qemuIo('colo-disk0', 'read -P 0xab 0 64k')), 'ok');
    assert.equal(ioVerdict(await S.qemuIo('colo-disk0', 'read -P 0x5c 4M 64k')), 'ok');
    assert.equal(ioVerdict(await S.qemuIo('colo-disk0', 'write -P 0xef 2M 64k')), 'ok');
    await waitFailoverCommit(S.qmp);
  });

  if (accel === 'kvm') {
    let S2: QemuProcess;
    it('resume from the survivor to a new secondary (resync, filters before rew0), then fail over the other way', async () => {
      mig = await freePort();
      colo.opts.migration.port = mig;
      const nic2: NativeNic = { ...nic, mirrorPort: await freePort(), comparePort: await freePort(), compare0Port: await freePort(), compareOutPort: await freePort() };
      (colo.opts as { nic?: NativeNic }).nic = nic2;
      S2 = await startSecondary('secondary2', nic2);
      const progress: number[] = [];
      await colo.resume(S2.qmp, (p) => progress.push(p.offset));
      assert.ok(progress.length > 0);
      assert.equal((await colo.status('secondary')).mode, 'secondary');
      const filters = await S.qmp.execute<Array<{ name: string }>>('qom-list', { path: '/objects' });
      assert.ok(['m0', 'redire0', 'redire1', 'comp0', 'rew0'].every((id) => filters.some((f) => f.name === id)));
      await quietCheckpoint(colo);
      await S.qemuIo('colo-disk0', 'write -P 0x77 6M 64k');
      await quietCheckpoint(colo);
      for (const [pat, off] of [['0xab', '0'], ['0xef', '2M'], ['0x77', '6M']]) {
        assert.equal(ioVerdict(await S2.qemuIo('colo-disk0', `read -P ${pat} ${off} 64k`)), 'ok', `${pat}@${off} on the new secondary`);
      }
      // and the other way: the new secondary dies, the primary fails over and goes on
      await S2.kill('SIGKILL');
      const ev = await colo.failoverPrimary();
      if (ev) assert.equal(ev.data?.mode, 'primary');
      const st = await colo.status('primary');
      assert.deepEqual([st.mode, st['last-mode']], ['none', 'primary']);
      assert.equal(ioVerdict(await S.qemuIo('colo-disk0', 'write -P 0x99 7M 64k')), 'ok');
      await S.stop();
      // the survivor's own image (the old secondary's parent disk) holds everything, offline
      for (const [pat, off] of [['0xab', '0'], ['0x5c', '4M'], ['0xef', '2M'], ['0x77', '6M'], ['0x99', '7M'], ['0', '1M']]) {
        assert.equal(ioVerdict(qemuIoOffline(join(dir, 'secondary.qcow2'), `read -P ${pat} ${off} 64k`)), 'ok', `${pat}@${off} in secondary.qcow2`);
      }
    });
  }
});

describe(`colo-xl colo --native, one step per call (accel ${accel})`, function () {
  this.timeout(scaled(60_000));
  const dir = mkdtempSync(join(tmpdir(), 'colo-xl-native-cli-'));
  let P: QemuProcess;
  let S: QemuProcess;
  let common: string[];
  before(async () => {
    requireQemu();
    const [nbd, mig] = [await freePort(), await freePort()];
    const disk = { index: 0, image: createImage(join(dir, 's.qcow2')), activeDisk: createImage(join(dir, 'a.qcow2')), hiddenDisk: createImage(join(dir, 'h.qcow2')) };
    S = await startQemu('s', [...commonArgs(accel).filter((a) => a !== '-S'), ...nativeSecondaryArgs([disk], { host: '127.0.0.1', port: mig })], dir);
    P = await startQemu('p', [...commonArgs(accel), ...nativePrimaryArgs([{ index: 0, image: createImage(join(dir, 'p.qcow2')) }])], dir);
    common = ['--native', '-P', P.controlPath, '-S', S.controlPath, '-d', '0', '-n', `127.0.0.1:${nbd}`, '-m', `127.0.0.1:${mig}`];
  });
  after(async () => {
    await stopAllQemus();
    rmSync(dir, { recursive: true, force: true });
  });

  it('start, status, checkpoint, then failover of the secondary after SIGKILL of the primary', async () => {
    let r = await cli(['colo', 'start', '--delay', '60000', ...common]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^COLO running: both sides in COLO \d+\.\d ms after migrate, first checkpoint \d+\.\d ms later\n$/m);
    r = await cli(['colo', 'status', ...common.slice(0, 5)]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^primary +vm running, COLO mode primary, migration colo\nsecondary vm running, COLO mode secondary/);
    await P.qemuIo('colo-disk0', 'write -P 0xab 0 64k');
    // the step returns once a checkpoint begun after its request has completed
    r = await cli(['colo', 'checkpoint', '--json', '--delay', '60000', ...common]);
    assert.equal(r.status, 0, r.stderr);
    const { ms, ...ev } = JSON.parse(r.stdout) as { ms: number };
    assert.deepEqual(ev, { kind: 'checkpoint', n: 1, requested: true, completed: true });
    assert.ok(ms > 0);
    assert.equal(ioVerdict(await S.qemuIo('colo-disk0', 'read -P 0xab 0 64k')), 'ok');
    await P.kill('SIGKILL');
    r = await cli(['colo', 'failover', '--native', '-S', S.controlPath]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^secondary took over in \d+\.\d ms/);
    r = await cli(['colo', 'status', '--native', '-S', S.controlPath]);
    assert.match(r.stdout, /^secondary vm running, COLO mode none/);
    assert.equal(ioVerdict(await S.qemuIo('colo-disk0', 'write -P 0xef 2M 64k')), 'ok');
  });
});

if (accel === 'kvm') {
  describe('QEMU-native COLO: secondary SIGKILLed, primary failover, primary resumes to a new secondary (kvm)', function () {
    this.timeout(scaled(60_000));
    const dir = mkdtempSync(join(tmpdir(), 'colo-xl-native-pr-'));
    after(async () => {
      await stopAllQemus();
      rmSync(dir, { recursive: true, force: true });
    });

    it('the primary keeps its NIC objects working through failover and resume (filters re-added, not before rew0)', async () => {
      const nic = await nicPorts();
      const secondary = async (name: string, mig: number): Promise<QemuProcess> => {
        const disk = { index: 0, image: createImage(join(dir, `${name}.qcow2`)), activeDisk: createImage(join(dir, `${name}-a.qcow2`)), hiddenDisk: createImage(join(dir, `${name}-h.qcow2`)) };
        const n = { ...nic, netdev: `socket,id=hn0,listen=127.0.0.1:${await freePort()}` };
        return await startQemu(name, [...commonArgs(accel).filter((a) => a !== '-S'), ...nativeSecondaryArgs([disk], { host: '127.0.0.1', port: mig }, n)], dir);
      };
      const mig = await freePort();
      const S = await secondary('s1', mig);
      const P = await startQemu('p', [...commonArgs(accel), ...nativePrimaryArgs([{ index: 0, image: createImage(join(dir, 'p.qcow2')) }], nic)], dir);
      const colo = new QemuNativeColo(P.qmp, S.qmp, { disks: [0], nbd: { host: '127.0.0.1', port: await freePort() }, migration: { host: '127.0.0.1', port: mig }, checkpointDelayMs: 300, nic });
      await colo.prepareSecondary();
      await colo.start();
      await quietCheckpoint(colo);
      await P.qemuIo('colo-disk0', 'write -P 0x41 0 64k');
      await S.kill('SIGKILL');
      const ev = await colo.failoverPrimary();
      if (ev) assert.equal(ev.data?.mode, 'primary');
      assert.equal((await colo.status('primary'))['last-mode'], 'primary');
      const objs = async () => (await P.qmp.execute<Array<{ name: string }>>('qom-list', { path: '/objects' })).map((o) => o.name);
      assert.ok(!(await objs()).includes('comp0'), 'colo-compare removed');
      assert.equal(ioVerdict(await P.qemuIo('colo-disk0', 'write -P 0x42 1M 64k')), 'ok');
      colo.opts.migration.port = await freePort();
      const S2 = await secondary('s2', colo.opts.migration.port);
      await colo.resume(S2.qmp);
      assert.equal((await colo.status('primary')).mode, 'primary');
      assert.deepEqual((await objs()).filter((n) => ['m0', 'redire0', 'redire1', 'iothread1', 'comp0'].includes(n)).sort(), ['comp0', 'iothread1', 'm0', 'redire0', 'redire1']);
      await quietCheckpoint(colo);
      await P.qemuIo('colo-disk0', 'write -P 0x43 2M 64k');
      await quietCheckpoint(colo);
      assert.equal(ioVerdict(await S2.qemuIo('colo-disk0', 'read -P 0x43 2M 64k')), 'ok');
      assert.equal(ioVerdict(await S2.qemuIo('colo-disk0', 'read -P 0x41 0 64k')), 'ok');
      assert.equal(ioVerdict(await S2.qemuIo('colo-disk0', 'read -P 0x42 1M 64k')), 'ok');
    });
  });
}
