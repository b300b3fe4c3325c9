import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFenceCmd } from '../../lib/ha/fence.js';
import { AbortedError, InvalidArgumentError } from '../../lib/errors.js';
import { Heartbeat, type PeerLost } from '../../lib/ha/heartbeat.js';
import { askWitness, WitnessServer } from '../../lib/ha/witness.js';
import { freePort } from '../support/qemu.js';
import { scaled } from '../support/slowness.js';
import { sleep } from '../../lib/util/wait.js';

const lo = (port: number) => ({ host: '127.0.0.1', port });

describe('HA heartbeat, witness and fence hook (no QEMU)', function () {
  this.timeout(scaled(10_000));
  const open: Array<{ stop(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((x) => x.stop()));
  });

  async function pair(opts: { witness?: number } = {}): Promise<[Heartbeat, Heartbeat]> {
    const [pa, pb] = [await freePort(), await freePort()];
    const w = opts.witness ? { witness: lo(opts.witness) } : {};
    const a = new Heartbeat({ node: 'alpha', role: 'primary', listen: lo(pa), peer: lo(pb), ...w });
    const b = new Heartbeat({ node: 'beta', role: 'secondary', listen: lo(pb), peer: lo(pa), ...w });
    open.push(a, b);
    await a.start();
    await b.start();
    return [a, b];
  }

  // HOST:PORT itself is test/util/host-port.test.ts's
  it('refuses a miss count below 1', () => {
    assert.throws(() => new Heartbeat({ node: 'x', role: 'primary', listen: lo(1), peer: lo(2), missCount: 0 }), (e: unknown) => e instanceof InvalidArgumentError && /miss count/.test(e.message));
  });

  it('a port in use fails start() and leaves no socket behind', async () => {
    const [a] = await pair();
    const b = new Heartbeat({ node: 'gamma', role: 'secondary', listen: lo(a.port), peer: lo(1) });
    await assert.rejects(b.start(), /EADDRINUSE/);
    assert.equal(b.port, 0);
  });

  it('onLost() returns its unsubscriber; stop() drops every subscription', async () => {
    const [a, b] = await pair();
    const lost: string[] = [];
    const off = b.onLost(() => lost.push('first'));
    b.onLost(() => lost.push('second'));
    off();
    a.mute();
    await sleep(scaled(400));
    assert.deepEqual(lost, ['second']);
  });

  it('each side learns the other\'s identity; defaults are 50 ms × 3', async () => {
    const [a, b] = await pair();
    await sleep(scaled(200));
    assert.equal(a.peerNode, 'beta');
    assert.equal(b.peerNode, 'alpha');
    assert.equal(a.deadlineMs, 150);
  });

  it('a silent peer is declared lost just after interval × miss count, once', async () => {
    const [a, b] = await pair();
    await sleep(120);
    const lost: PeerLost[] = [];
    b.onLost((l) => lost.push(l));
    const t = performance.now();
    a.mute();
    await sleep(scaled(400));
    assert.equal(lost.length, 1);
    assert.equal(lost[0]!.peer, 'alpha');
    const after = lost[0]!.at - t;
    assert.ok(after >= 100 && after < scaled(400), `declared ${after.toFixed(0)} ms after the last beat could have come`);
  });

  it('a cut link makes both sides declare the other lost while the witness still hears both', async () => {
    const w = new WitnessServer();
    open.push(w);
    await w.start(lo(0));
    const [a, b] = await pair({ witness: w.port });
    await sleep(120);
    const lost: string[] = [];
    a.onLost((l) => lost.push(`a:${l.peer}`));
    b.onLost((l) => lost.push(`b:${l.peer}`));
    a.cut();
    b.cut();
    await sleep(scaled(300));
    assert.deepEqual(lost.sort(), ['a:beta', 'b:alpha']);
    const ans = await askWitness(lo(w.port), 'alpha', 150);
    assert.equal(ans?.reachable, true);
    a.mute();
    await sleep(200);
    const gone = await askWitness(lo(w.port), 'alpha', 150);
    assert.equal(gone?.reachable, false);
    assert.ok((gone?.silentMs ?? 0) > 150);
    assert.equal((await askWitness(lo(w.port), 'nobody', 150))?.reachable, false);
  });

  it('no witness answer within the time-out is null (no takeover on silence)', async () => {
    assert.equal(await askWitness(lo(await freePort()), 'alpha', 150, { timeoutMs: 100 }), null);
  });

  it("the caller's signal gives a witness question up (AbortedError)", async () => {
    const ac = new AbortController();
    const q = askWitness(lo(await freePort()), 'alpha', 150, { signal: ac.signal, timeoutMs: 10_000 });
    ac.abort();
    await assert.rejects(q, (e: unknown) => e instanceof AbortedError);
  });

  it("the caller's signal kills a fence command under way: a failure, as a timeout is", async () => {
    const ac = new AbortController();
    const f = runFenceCmd('sleep 5', 'beta', lo(7001), { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const r = await f;
    assert.deepEqual([r.ok, r.code], [false, null]);
    assert.ok(r.ms < 4000);
  });

  it('the fence command gets the peer identity as $1 and in the environment; non-zero exit is a failure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'colo-xl-fence-'));
    try {
      const f = await runFenceCmd(`echo "$1 $COLO_XL_PEER $COLO_XL_PEER_ADDR" > ${dir}/out`, 'beta', lo(7001));
      assert.equal(f.ok, true);
      assert.equal(readFileSync(join(dir, 'out'), 'utf8'), 'beta beta 127.0.0.1:7001\n');
      const bad = await runFenceCmd('echo no power switch >&2; exit 3', 'beta', lo(7001));
      assert.deepEqual([bad.ok, bad.code, bad.output], [false, 3, 'no power switch']);
      const slow = await runFenceCmd('sleep 5', 'beta', lo(7001), { timeoutMs: 100 });
      assert.deepEqual([slow.ok, slow.code], [false, null]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
