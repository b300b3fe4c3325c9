import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFenceCmd } from '../../lib/ha/fence.js';
import { Heartbeat, parseHostPort, type PeerLost } from '../../lib/ha/heartbeat.js';
import { askWitness, WitnessServer } from '../../lib/ha/witness.js';
import { freePort } from '../support/qemu.js';
import { scaled } from '../support/slowness.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
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

  it('parses HOST:PORT and rejects the rest', () => {
    assert.deepEqual(parseHostPort('127.0.0.1:7000'), { host: '127.0.0.1', port: 7000 });
    assert.deepEqual(parseHostPort('[::1]:9'), { host: '::1', port: 9 });
    assert.throws(() => parseHostPort('127.0.0.1'), /expected HOST:PORT/);
    assert.throws(() => parseHostPort('h:70000'), /expected HOST:PORT/);
    assert.throws(() => new Heartbeat({ node: 'x', role: 'primary', listen: lo(1), peer: lo(2), missCount: 0 }), /miss count/);
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
    b.on('lost', (l) => lost.push(l));
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
    a.on('lost', (l) => lost.push(`a:${l.peer}`));
    b.on('lost', (l) => lost.push(`b:${l.peer}`));
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
    assert.equal(await askWitness(lo(await freePort()), 'alpha', 150, 100), null);
  });

  it('the fence command gets the peer identity as $1 and in the environment; non-zero exit is a failure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'colo-xl-fence-'));
    try {
      const f = await runFenceCmd(`echo "$1 $COLO_XL_PEER $COLO_XL_PEER_ADDR" > ${dir}/out`, 'beta', lo(7001));
      assert.equal(f.ok, true);
      assert.equal(readFileSync(join(dir, 'out'), 'utf8'), 'beta beta 127.0.0.1:7001\n');
      const bad = await runFenceCmd('echo no power switch >&2; exit 3', 'beta', lo(7001));
      assert.deepEqual([bad.ok, bad.code, bad.output], [false, 3, 'no power switch']);
      const slow = await runFenceCmd('sleep 5', 'beta', lo(7001), 100);
      assert.deepEqual([slow.ok, slow.code], [false, null]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
