import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QemuNativeColo } from '../../lib/colo/native.js';
import { HaAgent, type HaAgentOptions, type HaReport } from '../../lib/ha/agent.js';
import { firstCheckpoint, startPair, type ColoPair } from '../../cli/lab/pair.js';
import { isWritable } from '../support/colo-pair.js';
import { WitnessServer } from '../../lib/ha/witness.js';
import { freePort, ioVerdict, requireQemu, stopAllQemus, testQemus } from '../support/qemu.js';
import { scaled } from '../support/slowness.js';
import { sleep } from '../../lib/util/wait.js';

const lo = (port: number) => ({ host: '127.0.0.1', port });

/**
 * Both agents of a pair, on fresh loopback UDP ports; `extra` per role (fence command…). The
 * heartbeat deadline is a time limit like any other: 50 ms × 3 on an idle host, with more
 * misses allowed on a slow one (a starved sender must not look dead to its peer and the witness).
 */
async function agents(pair: ColoPair, extra: (role: 'primary' | 'secondary') => Partial<HaAgentOptions> = () => ({})): Promise<{ primary: HaAgent; secondary: HaAgent }> {
  const [pp, sp] = [await freePort(), await freePort()];
  const mk = (role: 'primary' | 'secondary'): HaAgent =>
    new HaAgent({
      node: role === 'primary' ? 'node-a' : 'node-b',
      role,
      listen: lo(role === 'primary' ? pp : sp),
      peer: lo(role === 'primary' ? sp : pp),
      local: role === 'primary' ? pair.P.qmp : pair.S.qmp,
      colo: role === 'primary' ? new QemuNativeColo(pair.P.qmp, null, pair.colo.opts) : new QemuNativeColo(null, pair.S.qmp, pair.colo.opts),
      missCount: scaled(3),
      ...extra(role),
    });
  const a = { primary: mk('primary'), secondary: mk('secondary') };
  await a.primary.start();
  await a.secondary.start();
  return a;
}

describe('HA agents on a real QEMU-native COLO pair: automatic failover and split brain', function () {
  this.timeout(scaled(60_000));
  const dir = mkdtempSync(join(tmpdir(), 'colo-xl-ha-'));
  let running: Array<{ stop(): Promise<void> }> = [];
  before(() => requireQemu());
  afterEach(async () => {
    await Promise.all(running.map((a) => a.stop()));
    running = [];
    await stopAllQemus();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('primary SIGKILLed: the secondary detects it and takes over within 500 ms (50 ms × 3; both scaled by the host slowness), and serves writes', async () => {
    const pair = await startPair({ qemus: testQemus, dir, name: 'k', checkpointDelayMs: 200 });
    await firstCheckpoint(pair, scaled(10_000));
    const a = await agents(pair);
    running = [a.primary, a.secondary];
    await pair.P.qemuIo('colo-disk0', 'write -P 0x11 0 64k');
    // the write is protected once a checkpoint begun after it has completed (exact detector)
    await pair.colo.checkpoint({ delayMs: 200, timeoutMs: scaled(10_000) });
    await sleep(scaled(300));
    const t = performance.now();
    await pair.P.kill('SIGKILL');
    const r = await a.secondary.outcome;
    assert.equal(r.event, 'failover', r.reason);
    assert.equal(r.guard, 'unguarded');
    assert.ok(r.checkpoints! >= 1, `the secondary loaded ${r.checkpoints} checkpoint(s) while its agent ran`);
    const detect = r.detectedAt! - t;
    const total = r.doneAt! - t;
    assert.ok(total < scaled(500), `failover complete ${total.toFixed(0)} ms after the SIGKILL (detection ${detect.toFixed(0)} + failover ${r.failoverMs!.toFixed(0)})`);
    assert.equal((await a.primary.outcome).event, 'local-lost');
    assert.equal(await isWritable(pair.S), true);
    assert.equal(ioVerdict(await pair.S.qemuIo('colo-disk0', 'write -P 0x22 1M 64k')), 'ok');
    assert.equal(ioVerdict(await pair.S.qemuIo('colo-disk0', 'read -P 0x11 0 64k')), 'ok');
  });

  /** A pair in COLO with both agents and a witness, running a moment so that heartbeats flow. */
  async function witnessedPair(name: string): Promise<{ pair: ColoPair; a: { primary: HaAgent; secondary: HaAgent } }> {
    const w = new WitnessServer();
    await w.start(lo(0));
    const pair = await startPair({ qemus: testQemus, dir, name, checkpointDelayMs: 200 });
    const a = await agents(pair, () => ({ witness: lo(w.port) }));
    running = [a.primary, a.secondary, w];
    await sleep(scaled(300));
    return { pair, a };
  }

  it('secondary SIGKILLed, witness set: the witness confirms, the primary drops replication and keeps serving', async () => {
    const { pair, a } = await witnessedPair('w');
    await pair.S.kill('SIGKILL');
    const r = await a.primary.outcome;
    assert.equal(r.event, 'failover', r.reason);
    assert.equal(r.guard, 'witness');
    assert.match(r.reason, /witness confirms node-b is unreachable/);
    assert.equal(ioVerdict(await pair.P.qemuIo('colo-disk0', 'write -P 0x33 0 64k')), 'ok');
    assert.equal((await pair.P.qmp.execute<{ mode: string }>('query-colo-status')).mode, 'none');
  });

  it('cut link with a witness: both sides see the peer lost, the witness blocks both takeovers, one side stays writable', async () => {
    const { pair, a } = await witnessedPair('c');
    a.primary.heartbeat.cut();
    a.secondary.heartbeat.cut();
    const [rp, rs] = await Promise.all([a.primary.outcome, a.secondary.outcome]);
    for (const r of [rp, rs]) {
      assert.equal(r.event, 'blocked', r.reason);
      assert.match(r.reason, /witness still hears/);
    }
    assert.ok(pair.P.alive && pair.S.alive, 'both QEMUs live');
    assert.deepEqual([await isWritable(pair.P), await isWritable(pair.S)], [true, false]);
  });

  it('cut link with a fence command: the fencing race has one winner, which kills the peer and ends the only writable side', async () => {
    const pair = await startPair({ qemus: testQemus, dir, name: 'f', checkpointDelayMs: 200 });
    // a toy STONITH: the first to take the lock kills the peer's QEMU, named by the peer identity
    writeFileSync(join(dir, 'node-a.pid'), String(pair.P.pid));
    writeFileSync(join(dir, 'node-b.pid'), String(pair.S.pid));
    const fence = `mkdir ${dir}/fence.lock 2>/dev/null || { echo lost the fencing race; exit 1; }; kill -9 $(cat ${dir}/$1.pid)`;
    const a = await agents(pair, () => ({ fenceCmd: fence }));
    running = [a.primary, a.secondary];
    await sleep(scaled(300));
    a.primary.heartbeat.cut();
    a.secondary.heartbeat.cut();
    const reports: HaReport[] = await Promise.all([a.primary.outcome, a.secondary.outcome]);
    const events = reports.map((r) => r.event).sort();
    // the loser is either blocked by its failed fence or (killed first) reports its QEMU lost
    assert.ok(events.includes('failover'), JSON.stringify(reports));
    assert.ok(events.includes('blocked') || events.includes('local-lost'), JSON.stringify(reports));
    const winner = reports.find((r) => r.event === 'failover')!;
    assert.equal(winner.guard, 'fence');
    await sleep(scaled(100));
    const writable = [await isWritable(pair.P), await isWritable(pair.S)];
    assert.equal(writable.filter(Boolean).length, 1, `writable: primary ${writable[0]}, secondary ${writable[1]}`);
    assert.equal(winner.role === 'primary' ? writable[0] : writable[1], true);
  });

  it('a failing fence command blocks the takeover even when the primary is really dead', async () => {
    const pair = await startPair({ qemus: testQemus, dir, name: 'b', checkpointDelayMs: 200 });
    const a = await agents(pair, () => ({ fenceCmd: 'exit 1' }));
    running = [a.primary, a.secondary];
    await sleep(scaled(300));
    await pair.P.kill('SIGKILL');
    const r = await a.secondary.outcome;
    assert.equal(r.event, 'blocked');
    assert.match(r.reason, /fence command failed \(exit 1\)/);
    assert.equal((await pair.S.qmp.execute<{ mode: string }>('query-colo-status')).mode, 'secondary');
  });
});
