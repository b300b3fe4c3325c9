import assert from 'node:assert/strict';
import { CheckpointError, CheckpointWatch } from '../../lib/colo/checkpoint.js';
import { EventHub } from '../../lib/qmp/events.js';
import type { QmpEvent } from '../../lib/qmp/message.js';

/** The two QMPClient methods the watch uses, fed by hand in stream order. */
class FakeQmp extends EventHub {
  private clock = 1_000_000;
  emit(event: string, data?: Record<string, unknown>): void {
    this.clock += 10;
    const e: QmpEvent = { event, timestamp: { seconds: Math.floor(this.clock / 1000), microseconds: (this.clock % 1000) * 1000 }, ...(data ? { data } : {}) };
    this.deliver(e);
  }
  close(): void {
    this.closeAll();
  }
  /** One STOP/RESUME pair: a checkpoint, or COLO entry after expectEntry(). */
  cycle(): void {
    this.emit('STOP');
    this.emit('RESUME');
  }
}

const failure = (f: string) => (e: unknown) => e instanceof CheckpointError && e.failure === f;

describe('CheckpointWatch: COLO checkpoints from the STOP/RESUME events', () => {
  it('COLO entry is the first RESUME after expectEntry (a migration-completion STOP is not a checkpoint); then each STOP/RESUME pair is one', async () => {
    const q = new FakeQmp();
    const w = new CheckpointWatch(q, 'primary');
    w.expectEntry();
    assert.equal(w.inColo, false);
    const entered = w.entered({ timeoutMs: 1000 });
    q.cycle();
    await entered;
    assert.deepEqual([w.inColo, w.completed, w.mark()], [true, 0, 0]);
    q.cycle();
    assert.equal(w.completed, 1);
    assert.deepEqual(w.last, { n: 1, stop: 1, stoppedAt: 1_000_030, resumedAt: 1_000_040 });
    // events are taken as the client reads them, not on a later tick
    q.emit('STOP');
    assert.equal(w.mark(), 2);
    assert.equal(w.completed, 1);
  });

  it('a RESUME without its STOP (watch made mid-checkpoint) is not counted', () => {
    const q = new FakeQmp();
    const w = new CheckpointWatch(q, 'secondary');
    q.emit('RESUME');
    assert.equal(w.completed, 0);
    q.cycle();
    assert.equal(w.completed, 1);
  });

  it('after(mark) skips the checkpoint that was under way at the mark', async () => {
    const q = new FakeQmp();
    const w = new CheckpointWatch(q, 'primary');
    q.emit('STOP');
    const mark = w.mark();
    let got = 0;
    const p = w.after(mark, { timeoutMs: 1000 }).then((c) => (got = c.n));
    q.emit('RESUME');
    await new Promise((r) => setImmediate(r));
    assert.equal(got, 0, 'the checkpoint begun before the mark does not count');
    q.cycle();
    await p;
    assert.equal(got, 2);
    assert.equal((await w.nextCompleted(1)).n, 2);
    assert.equal((await w.reach(2)).n, 2);
  });

  it('COLO_EXIT ends every wait, and the failover restart after it is no checkpoint', async () => {
    const q = new FakeQmp();
    const w = new CheckpointWatch(q, 'primary');
    q.emit('STOP');
    const p = w.nextCompleted(0, { timeoutMs: 1000 });
    q.emit('COLO_EXIT', { mode: 'primary', reason: 'error' });
    q.emit('RESUME');
    await assert.rejects(p, failure('colo-exit'));
    await assert.rejects(p, /COLO ended \(COLO_EXIT \{"mode":"primary","reason":"error"\}\)/);
    assert.deepEqual([w.completed, w.inColo, w.exit?.data?.reason], [0, false, 'error']);
    // a new COLO session (resume) starts with expectEntry
    w.expectEntry();
    q.emit('RESUME');
    await w.entered();
    q.cycle();
    assert.equal(w.completed, 1);
  });

  it('times out, aborts and notices a closed connection', async () => {
    const q = new FakeQmp();
    const w = new CheckpointWatch(q, 'primary');
    await assert.rejects(w.nextCompleted(0, { timeoutMs: 30 }), (e: unknown) => failure('timeout')(e) && /no checkpoint 1 within 30 ms/.test((e as Error).message));
    const ac = new AbortController();
    const p = w.nextCompleted(0, { signal: ac.signal });
    ac.abort(new Error('stop'));
    await assert.rejects(p, failure('aborted'));
    const c = w.nextCompleted(0);
    q.close();
    await assert.rejects(c, failure('disconnected'));
  });

  it('dispose() removes its listener', () => {
    const q = new FakeQmp();
    const w = new CheckpointWatch(q, 'primary');
    assert.equal(q.size, 1);
    w.dispose();
    assert.equal(q.size, 0);
  });
});
