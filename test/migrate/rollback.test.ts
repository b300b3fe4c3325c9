import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { migrateDomain, type MigrateOptions } from '../../lib/migrate/source.js';
import { MigrateError, type MigrateEvent } from '../../lib/migrate/types.js';
import { ioVerdict, pickAccel } from '../support/qemu.js';
import { migrationSuite, writeOffline, type Pair } from './harness.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe(`migrate: failures roll back, the source runs on its own disks (accel ${pickAccel()})`, function () {
  this.timeout(60_000);
  const suite = migrationSuite('rollback');

  async function start(tag: string): Promise<Pair> {
    const pair = await suite.start(join(suite.dir, tag), [{ device: 'disk0', size: '64M' }], (f) => {
      writeOffline(f, 'write -P 0xab 0 64k');
      writeOffline(f, 'write -P 0x11 20M 16M');
    });
    return pair;
  }

  /** The source after a rollback: running, on its own image, no job or NBD node of ours left. */
  async function assertSourceIntact(p: Pair): Promise<void> {
    const q = p.source.qmp;
    assert.equal((await q.execute<{ status: string }>('query-status')).status, 'running', 'source VM running');
    const blocks = await q.execute<Array<{ device: string; inserted?: { file: string } }>>('query-block');
    assert.equal(blocks.find((b) => b.device === 'disk0')?.inserted?.file, join(p.srcDir, 'disk0.qcow2'), 'still on its own image');
    assert.deepEqual(await q.execute('query-block-jobs'), [], 'no block job left');
    const nodes = await q.execute<Array<{ 'node-name': string }>>('query-named-block-nodes');
    assert.ok(!nodes.some((n) => n['node-name'].startsWith('colo-xl-')), 'no NBD target node left');
    assert.equal(ioVerdict(await p.source.qemuIo('disk0', 'read -P 0xab 0 64k')), 'ok');
    assert.equal(ioVerdict(await p.source.qemuIo('disk0', 'read -P 0x11 20M 16M')), 'ok');
  }

  /** The destination after a rollback: its QEMU gone, the images it created removed. */
  async function assertDestGone(p: Pair): Promise<void> {
    const r = await p.received;
    assert.equal(r.outcome, 'aborted');
    const pid = (await p.dest).pid;
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((res) => setTimeout(res, 20));
    assert.ok(!alive(pid), 'destination QEMU ended');
    assert.deepEqual(existsSync(p.dstDir) ? readdirSync(p.dstDir) : [], [], 'destination images removed');
  }

  /**
   * A migration with a slow mirror (8 MiB/s) that calls `midMirror` once, when the first bytes
   * are copied; resolves with what it threw (null if it succeeded).
   */
  function failMidMirror(p: Pair, extra: Partial<MigrateOptions>, midMirror: () => void): Promise<unknown> {
    let fired = false;
    return migrateDomain({
      qmp: p.source.qmp,
      peer: p.peer,
      address: '127.0.0.1',
      mirrorSpeed: 8 * 1024 * 1024,
      pollMs: 20,
      ...extra,
      onEvent: (e: MigrateEvent) => {
        if (e.type === 'disk' && e.copied > 0 && !fired) {
          fired = true;
          midMirror();
        }
      },
    }).then(
      () => null,
      (e: unknown) => e,
    );
  }

  it('destination killed mid-mirror: fails at mirror-sync, source untouched, destination torn down', async () => {
    const p = await start('kill-mirror');
    let killed = false;
    const err = await failMidMirror(p, {}, () => {
      killed = true;
      void p.dest.then((d) => process.kill(d.pid, 'SIGKILL'));
    });
    assert.ok(killed, 'the destination was killed while the mirror ran');
    assert.ok(err instanceof MigrateError, String(err));
    assert.equal(err.step, 'mirror-sync');
    assert.match(err.message, /^migration failed at step mirror-sync: /);
    // the receiver's notice usually wins the race against the job's or the stream's I/O error
    assert.match(err.reason, /^destination QEMU exited \(SIGKILL\)$|ended early|memory migration failed/);
    await assertSourceIntact(p);
    await assertDestGone(p);
  });

  it('destination killed mid-migration: fails at migrate, the source resumes', async () => {
    const p = await start('kill-migrate');
    let killedWhile = '';
    const err = await migrateDomain({
      qmp: p.source.qmp,
      peer: p.peer,
      address: '127.0.0.1',
      // slow enough that the memory copy is still active when the destination dies
      migrateSpeed: 256 * 1024,
      pollMs: 20,
      onEvent: (e: MigrateEvent) => {
        if (e.type === 'memory' && e.status === 'active' && killedWhile === '') {
          killedWhile = e.status;
          void p.dest.then((d) => process.kill(d.pid, 'SIGKILL'));
        }
      },
    }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.equal(killedWhile, 'active', 'killed while the memory was being copied');
    assert.ok(err instanceof MigrateError, String(err));
    assert.equal(err.step, 'migrate');
    // the receiver's notice usually wins the race against the job's or the stream's I/O error
    assert.match(err.reason, /^destination QEMU exited \(SIGKILL\)$|ended early|memory migration failed/);
    const mig = await p.source.qmp.execute<{ status: string }>('query-migrate');
    assert.ok(['failed', 'cancelled'].includes(mig.status), `source migration ${mig.status}`);
    await assertSourceIntact(p);
    await assertDestGone(p);
  });

  it('destination dies after the memory arrived: fails at finish, the paused source is resumed on its images', async () => {
    const p = await start('kill-finish');
    const err = await migrateDomain({
      qmp: p.source.qmp,
      peer: p.peer,
      address: '127.0.0.1',
      pollMs: 20,
      onEvent: (e: MigrateEvent) => {
        if (e.type === 'step' && e.step === 'finish') void p.dest.then((d) => process.kill(d.pid, 'SIGKILL'));
      },
    }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof MigrateError, String(err));
    assert.equal(err.step, 'finish');
    // the memory had gone over: QEMU left the source in postmigrate, and the rollback resumed it
    assert.equal((await p.source.qmp.execute<{ status: string }>('query-migrate')).status, 'completed');
    await assertSourceIntact(p);
    await assertDestGone(p);
  });

  it('a source-side cancel mid-mirror: fails at mirror-sync with the reason, both ends cleaned', async () => {
    const p = await start('cancel');
    const ac = new AbortController();
    const err = await failMidMirror(p, { signal: ac.signal }, () => ac.abort('operator interrupt'));
    assert.ok(err instanceof MigrateError, String(err));
    assert.equal(err.step, 'mirror-sync');
    assert.match(err.reason, /cancelled on the source: operator interrupt/);
    await assertSourceIntact(p);
    await assertDestGone(p);
  });

  it('the destination refuses to prepare: fails at prepare, nothing started on the source', async () => {
    const p = await start('refuse');
    // an image already where the destination would create its copy
    mkdirSync(p.dstDir, { recursive: true });
    writeFileSync(join(p.dstDir, 'disk0.qcow2'), 'not mine');
    const err = await migrateDomain({ qmp: p.source.qmp, peer: p.peer, address: '127.0.0.1' }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof MigrateError, String(err));
    assert.equal(err.step, 'prepare');
    assert.match(err.reason, /exists; refusing to overwrite it/);
    await assertSourceIntact(p);
    assert.equal((await p.received).outcome, 'aborted');
  });
});
