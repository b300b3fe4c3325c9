import assert from 'node:assert/strict';
import { ColoError, ReplicationStatusError } from '../../lib/colo/errors.js';
import { isQmpError, queryXenReplicationStatus, stopReplication } from '../../lib/colo/qdisk.js';
import { ioVerdict, pickAccel, qemuIoOffline, requireQemu, stopAllQemus } from '../support/qemu.js';
import { ColoPair, imageDifference } from './pair.js';
import { scaled } from '../support/slowness.js';

const accel = pickAccel();

/**
 * A pair replicating one disk for the describe this is called in: started (and probed when
 * asked) and set up on both sides before its tests, closed after them.
 */
function replicatingPair(o: { probe: boolean }, use: (p: ColoPair) => void): void {
  let pair: ColoPair | undefined;
  before(async () => {
    pair = await ColoPair.start(1);
    use(pair);
    if (o.probe) await pair.repl.probe();
    await pair.repl.setupSecondary();
    await pair.repl.setupPrimary();
  });
  after(async () => pair?.close());
}

describe(`libxl-style COLO disk replication, two real QEMUs on loopback (accel ${accel})`, function () {
  this.timeout(scaled(60_000));
  before(() => requireQemu());
  after(stopAllQemus);

  describe('one COLO disk (hda, export e1)', () => {
    let pair: ColoPair;
    replicatingPair({ probe: true }, (p) => (pair = p));

    it('set-up sends the libxl sequence and leaves both sides replicating with a clean status', async () => {
      assert.deepEqual(
        pair.steps.map((s) => `${s.side} ${s.step}`),
        [
          'secondary probe',
          'primary probe',
          'secondary nbd-server-start/add',
          'secondary xen-set-replication enable',
          'primary drive_add + x-blockdev-change e1',
          'primary xen-set-replication enable',
        ],
      );
      assert.equal(pair.repl.state, 'replicating');
      await pair.repl.status();
      const block = await pair.primary.qmp.execute<Array<{ 'node-name': string; drv: string }>>('query-named-block-nodes', { flat: true });
      assert.ok(block.some((n) => n['node-name'] === 'colo_node768' && n.drv === 'replication'));
    });

    it('a primary write reaches the secondary’s view at the next checkpoint, not before', async () => {
      const { primary: P, secondary: S } = pair;
      assert.equal(ioVerdict(await P.qemuIo('e1', 'write -P 0xab 0 64k')), 'ok');
      assert.equal(ioVerdict(await S.qemuIo('e1', 'read -P 0xab 0 64k')), 'ok', 'NBD carries it to the secondary disk at once');
      assert.equal(ioVerdict(await S.qemuIo('top-colo', 'read -P 0xab 0 64k')), 'MISMATCH', 'the SVM view waits for a checkpoint');
      const t = await pair.repl.checkpoint();
      assert.equal(t.n, 1);
      assert.equal(ioVerdict(await S.qemuIo('top-colo', 'read -P 0xab 0 64k')), 'ok');
    });

    it('a secondary-only write is discarded at the next checkpoint', async () => {
      const S = pair.secondary;
      assert.equal(ioVerdict(await S.qemuIo('top-colo', 'write -P 0xcd 1M 64k')), 'ok');
      assert.equal(ioVerdict(await S.qemuIo('top-colo', 'read -P 0xcd 1M 64k')), 'ok');
      await pair.repl.checkpoint();
      assert.equal(ioVerdict(await S.qemuIo('top-colo', 'read -P 0 1M 64k')), 'ok');
      assert.equal(ioVerdict(await S.qemuIo('top-colo', 'read -P 0xab 0 64k')), 'ok');
    });

    it('ten checkpoints in a row, each after a primary write, all visible on the secondary', async () => {
      const times: number[] = [];
      for (let i = 0; i < 10; i++) {
        await pair.primary.qemuIo('e1', `write -P 0x${(0x10 + i).toString(16)} ${8 + i}M 64k`);
        times.push((await pair.repl.checkpoint()).totalMs);
      }
      for (let i = 0; i < 10; i++) {
        assert.equal(ioVerdict(await pair.secondary.qemuIo('top-colo', `read -P 0x${(0x10 + i).toString(16)} ${8 + i}M 64k`)), 'ok');
      }
      times.sort((a, b) => a - b);
      assert.ok(times[9]! < scaled(1000), `a checkpoint took ${times[9]} ms`);
    });

    it('primary SIGKILLed → secondary failover: its disk equals the primary’s at the last checkpoint, byte for byte', async () => {
      const { primary: P, secondary: S } = pair;
      const d = pair.disks[0]!;
      await P.qemuIo('e1', 'write -P 0x42 20M 128k');
      await pair.repl.checkpoint();
      const ref = await pair.snapshotPrimary(d, 'at-last-checkpoint');
      // after the last checkpoint: reaches the secondary disk over NBD, but must not survive failover
      assert.equal(ioVerdict(await P.qemuIo('e1', 'write -P 0x5a 4M 64k')), 'ok');
      assert.equal(ioVerdict(await S.qemuIo('e1', 'read -P 0x5a 4M 64k')), 'ok');
      await P.kill('SIGKILL');
      await pair.repl.failoverSecondary();
      assert.equal(pair.repl.state, 'failed-over');
      const st = await S.qmp.execute<{ error: boolean }>('query-xen-replication-status');
      assert.deepEqual(st, { error: false }, 'no "I/O error" left behind');
      await S.qmp.execute('cont');
      assert.equal((await S.qmp.execute<{ status: string }>('query-status')).status, 'running');
      assert.equal(ioVerdict(await S.qemuIo('top-colo', 'read -P 0 4M 64k')), 'ok', 'post-checkpoint primary write is gone');
      assert.equal(ioVerdict(await S.qemuIo('top-colo', 'read -P 0x42 20M 128k')), 'ok');
      await S.stop();
      assert.equal(imageDifference(ref, d.target), null);
    });
  });

  describe('primary failover, then resume with a new secondary and fail over to it', () => {
    let pair: ColoPair;
    replicatingPair({ probe: false }, (p) => (pair = p));

    it('secondary SIGKILLed → the primary tears down replication, every reply ok, and keeps writing', async () => {
      const P = pair.primary;
      await P.qemuIo('e1', 'write -P 0x11 0 64k');
      await pair.repl.checkpoint();
      await pair.secondary.kill('SIGKILL');
      await pair.repl.failoverPrimary();
      assert.equal(pair.repl.state, 'failed-over');
      const nodes = await P.qmp.execute<Array<{ 'node-name': string }>>('query-named-block-nodes', { flat: true });
      assert.ok(!nodes.some((n) => n['node-name'] === 'colo_node768'), 'NBD node removed');
      assert.equal(ioVerdict(await P.qemuIo('e1', 'write -P 0x22 2M 64k')), 'ok');
      assert.equal(ioVerdict(await P.qemuIo('e1', 'read -P 0x22 2M 64k')), 'ok');
      await assert.rejects(pair.repl.checkpoint(), ColoError);
    });

    it('resume: a new secondary is resynced over NBD and replication is re-armed', async () => {
      const P = pair.primary;
      await P.qmp.execute('cont');
      pair.secondary = await pair.startSecondary('secondary2', true);
      const progress: number[] = [];
      await pair.repl.resume(pair.secondary.qmp, (p) => progress.push(p.offset));
      assert.equal(pair.repl.state, 'replicating');
      assert.ok(progress.length > 0, 'progress reported');
      assert.equal((await P.qmp.execute<{ status: string }>('query-status')).status, 'running', 'primary running again');
      const S = pair.secondary;
      assert.equal(ioVerdict(await S.qemuIo('top-colo', 'read -P 0x11 0 64k')), 'ok');
      assert.equal(ioVerdict(await S.qemuIo('top-colo', 'read -P 0x22 2M 64k')), 'ok');
      await P.qemuIo('e1', 'write -P 0x33 3M 64k');
      assert.equal(ioVerdict(await S.qemuIo('top-colo', 'read -P 0x33 3M 64k')), 'MISMATCH');
      await pair.repl.checkpoint();
      assert.equal(ioVerdict(await S.qemuIo('top-colo', 'read -P 0x33 3M 64k')), 'ok');
    });

    it('…and after a second failover the new secondary equals the primary at its last checkpoint', async () => {
      const d = pair.disks[0]!;
      const ref = await pair.snapshotPrimary(d, 'resumed');
      await pair.primary.qemuIo('e1', 'write -P 0x5a 5M 64k');
      await pair.primary.kill('SIGKILL');
      await pair.repl.failoverSecondary();
      await pair.secondary.stop();
      assert.equal(imageDifference(ref, d.target), null);
      assert.equal(ioVerdict(qemuIoOffline(d.target, 'read -P 0x33 3M 64k')), 'ok');
    });
  });

  describe('why the secondary takes over with failover: true', () => {
    it('libxl’s plain secondary stop fails on QEMU 7.2 and leaves "I/O error" (hence failover: true)', async () => {
      const pair = await ColoPair.start(1);
      try {
        await pair.repl.setupSecondary();
        await pair.repl.setupPrimary();
        await pair.repl.checkpoint();
        await pair.repl.teardownPrimary();
        const s = pair.secondary.qmp;
        const e = await stopReplication(s, false).then(() => assert.fail('libxl stop succeeded'), (x: unknown) => x);
        assert.ok(e instanceof ColoError);
        assert.ok(isQmpError(e, 'Backup job was cancelled unexpectedly'), String(e));
        assert.deepEqual(await s.execute('query-xen-replication-status'), { error: true, desc: 'I/O error occurred' });
        await assert.rejects(queryXenReplicationStatus(s, 'secondary'), ReplicationStatusError);
      } finally {
        await pair.close();
      }
    });
  });

  describe('two COLO disks (hda, hdb)', () => {
    it('libxl 4.17’s secondary strings give both disks the id "top-colo", which QEMU refuses', async () => {
      await assert.rejects(ColoPair.start(2, { libxlLiteral: true }), /Duplicate ID 'top-colo' for drive/);
    });

    it('this project’s builder gives the second disk "top-colo-832": both replicate and fail over byte for byte', async () => {
      const pair = await ColoPair.start(2);
      try {
        const { primary: P, secondary: S } = pair;
        await pair.repl.probe();
        await pair.repl.setupSecondary();
        await pair.repl.setupPrimary();
        await P.qemuIo('e1', 'write -P 0xa1 0 64k');
        await P.qemuIo('e2', 'write -P 0xb2 1M 64k');
        await S.qemuIo('top-colo-832', 'write -P 0xee 2M 64k');
        assert.equal(ioVerdict(await S.qemuIo('top-colo-832', 'read -P 0xb2 1M 64k')), 'MISMATCH');
        await pair.repl.checkpoint();
        assert.equal(ioVerdict(await S.qemuIo('top-colo', 'read -P 0xa1 0 64k')), 'ok');
        assert.equal(ioVerdict(await S.qemuIo('top-colo-832', 'read -P 0xb2 1M 64k')), 'ok');
        assert.equal(ioVerdict(await S.qemuIo('top-colo-832', 'read -P 0 2M 64k')), 'ok');
        const refs = [await pair.snapshotPrimary(pair.disks[0]!, 'd0'), await pair.snapshotPrimary(pair.disks[1]!, 'd1')];
        await P.qemuIo('e2', 'write -P 0x5a 3M 64k');
        await P.kill('SIGKILL');
        await pair.repl.failoverSecondary();
        await S.stop();
        assert.equal(imageDifference(refs[0]!, pair.disks[0]!.target), null);
        assert.equal(imageDifference(refs[1]!, pair.disks[1]!.target), null);
      } finally {
        await pair.close();
      }
    });
  });
});
