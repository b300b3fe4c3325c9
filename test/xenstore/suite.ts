/**
 * One behaviour suite for a xenstore client, run unchanged against Xen's real C xenstored and
 * against the embedded daemon (in-process and over its socket).
 */
import assert from 'node:assert/strict';
import type { Xenstore, XsWatch, WatchEvent } from '../../lib/xenstore/api.js';
import { XsError, XsTransactionConflict } from '../../lib/xenstore/messages.js';
import { eventWithin } from './watch-wait.js';

export interface SuiteTarget {
  /** A fresh connected client; the suite closes it. */
  connect(): Promise<Xenstore>;
}

async function nextEvent(w: XsWatch, ms = 2000): Promise<WatchEvent | 'timeout'> {
  return (await eventWithin(w, ms)) ?? 'timeout';
}

/** 'ok', or the errno name a xenstore request failed with. */
export async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof XsError) return e.errnoName;
    throw e;
  }
}

let seq = 0;

export function clientSuite(target: () => SuiteTarget): void {
  let xs: Xenstore;
  let base: string;
  beforeEach(async () => {
    xs = await target().connect();
    base = `/suite-${process.pid}-${++seq}`;
  });
  afterEach(async () => {
    await xs.rm(base).catch(() => undefined);
    await xs.close();
  });

  it('writes and reads values, text and binary, and creates missing parents', async () => {
    await xs.write(`${base}/a/b/c`, 'hello');
    assert.equal(await xs.read(`${base}/a/b/c`), 'hello');
    assert.equal(await xs.read(`${base}/a/b`), '');
    await xs.write(`${base}/bin`, Buffer.from([0, 1, 255]));
    assert.deepEqual([...(await xs.readBuffer(`${base}/bin`))], [0, 1, 255]);
    assert.equal(await xs.tryRead(`${base}/missing`), undefined);
    assert.equal(await xs.exists(`${base}/a`), true);
    assert.equal(await xs.exists(`${base}/nope`), false);
  });

  it('lists children in creation order; mkdir is idempotent; rm is recursive', async () => {
    for (const n of ['zeta', 'alpha', 'mid']) await xs.write(`${base}/d/${n}`, n);
    await xs.mkdir(`${base}/d/empty`);
    await xs.mkdir(`${base}/d/empty`);
    assert.deepEqual(await xs.directory(`${base}/d`), ['zeta', 'alpha', 'mid', 'empty']);
    await xs.rm(`${base}/d/alpha`);
    await xs.write(`${base}/d/alpha`, 'again');
    assert.deepEqual(await xs.directory(`${base}/d`), ['zeta', 'mid', 'empty', 'alpha']);
    await xs.rm(`${base}/d`);
    assert.equal(await xs.exists(`${base}/d/zeta`), false);
    // Removing a missing child of an existing node is fine; below a missing node it is ENOENT.
    await xs.rm(`${base}/gone`);
    assert.equal(await code(xs.rm(`${base}/gone/deeper`)), 'ENOENT');
  });

  it('reports typed errors carrying errno name, op and path', async () => {
    const err = await xs.read(`${base}/nothing`).catch((e: unknown) => e);
    assert.ok(err instanceof XsError);
    assert.equal(err.errnoName, 'ENOENT');
    assert.equal(err.op, 'READ');
    assert.equal(err.path, `${base}/nothing`);
    assert.equal(err.errno, 2);
    assert.equal(await code(xs.write(`${base}//x`, '1')), 'EINVAL');
    assert.equal(await code(xs.write(`${base}/x/`, '1')), 'EINVAL');
    assert.equal(await code(xs.rm('/')), 'EINVAL');
    assert.equal(await code(xs.read('/' + 'x'.repeat(2048))), 'EINVAL');
    assert.equal(await code(xs.directory(`${base}/nothing`)), 'ENOENT');
  });

  it('sets and gets permissions; new nodes inherit their parent’s', async () => {
    await xs.write(`${base}/p`, 'v');
    await xs.setPerms(`${base}/p`, [
      { domid: 0, access: 'none' },
      { domid: 3, access: 'read' },
      { domid: 4, access: 'both' },
    ]);
    assert.deepEqual(await xs.getPerms(`${base}/p`), [
      { domid: 0, access: 'none' },
      { domid: 3, access: 'read' },
      { domid: 4, access: 'both' },
    ]);
    await xs.write(`${base}/p/child/grand`, 'x');
    assert.deepEqual((await xs.getPerms(`${base}/p/child/grand`)).map((p) => p.domid), [0, 3, 4]);
  });

  it('pipelines hundreds of requests and routes every reply by req_id', async () => {
    const n = 400;
    await Promise.all(Array.from({ length: n }, (_, i) => xs.write(`${base}/pipe/${i}`, `v${i}`)));
    const values = await Promise.all(Array.from({ length: n }, (_, i) => xs.read(`${base}/pipe/${i}`)));
    assert.deepEqual(values, Array.from({ length: n }, (_, i) => `v${i}`));
    assert.equal((await xs.directory(`${base}/pipe`)).length, n);
  });

  it('lists directories too big for one reply (DIRECTORY_PART)', async () => {
    const names = Array.from({ length: 250 }, (_, i) => `entry-with-a-fairly-long-name-${String(i).padStart(4, '0')}`);
    await Promise.all(names.map((n) => xs.write(`${base}/big/${n}`, '')));
    assert.deepEqual(await xs.directory(`${base}/big`), names);
  });

  it('commits transactions and retries conflicts a bounded number of times', async () => {
    await xs.write(`${base}/counter`, '0');
    // Ten clients increment concurrently: every commit that saw a stale value must retry.
    const others = await Promise.all(Array.from({ length: 4 }, () => target().connect()));
    try {
      await Promise.all(
        [xs, ...others].flatMap((c) =>
          Array.from({ length: 3 }, () =>
            c.transaction(async (tx) => {
              const v = Number(await tx.read(`${base}/counter`));
              await new Promise((r) => setTimeout(r, 2));
              await tx.write(`${base}/counter`, String(v + 1));
            }, { attempts: 50 }),
          ),
        ),
      );
    } finally {
      await Promise.all(others.map((o) => o.close()));
    }
    assert.equal(await xs.read(`${base}/counter`), '15');

    let runs = 0;
    const err = await xs
      .transaction(async (tx) => {
        runs++;
        await tx.read(`${base}/counter`);
        await xs.write(`${base}/counter`, `changed-${runs}`);
        await tx.write(`${base}/counter`, 'from-tx');
      }, { attempts: 3 })
      .catch((e: unknown) => e);
    assert.ok(err instanceof XsTransactionConflict, String(err));
    assert.equal(err.errnoName, 'EAGAIN');
    assert.equal(runs, 3);
    assert.equal(await xs.read(`${base}/counter`), 'changed-3');
  });

  it('keeps transaction writes private until commit and drops them on a throw', async () => {
    const watcher = await target().connect();
    try {
      await xs.transaction(async (tx) => {
        await tx.write(`${base}/t/x`, '1');
        assert.equal(await tx.read(`${base}/t/x`), '1');
        assert.equal(await watcher.exists(`${base}/t/x`), false);
      });
      assert.equal(await watcher.read(`${base}/t/x`), '1');
      await assert.rejects(
        xs.transaction(async (tx) => {
          await tx.write(`${base}/t/y`, '2');
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await watcher.exists(`${base}/t/y`), false);
    } finally {
      await watcher.close();
    }
  });

  it('fires watches: initial fire, subtree changes, removal, and nothing after unwatch', async () => {
    await xs.write(`${base}/w/existing/leaf`, '1');
    const w = await xs.watch(`${base}/w`, 'tok-w');
    assert.deepEqual(await nextEvent(w), { path: `${base}/w`, token: 'tok-w' });
    await xs.write(`${base}/w/a/b`, '1');
    assert.deepEqual(await nextEvent(w), { path: `${base}/w/a/b`, token: 'tok-w' });
    const leaf = await xs.watch(`${base}/w/existing/leaf`, 'tok-leaf');
    assert.deepEqual(await nextEvent(leaf), { path: `${base}/w/existing/leaf`, token: 'tok-leaf' });
    await xs.rm(`${base}/w`);
    assert.deepEqual(await nextEvent(w), { path: `${base}/w`, token: 'tok-w' });
    assert.deepEqual(await nextEvent(leaf), { path: `${base}/w/existing/leaf`, token: 'tok-leaf' });
    await w.close();
    await leaf.close();
    await xs.write(`${base}/w/again`, '1');
    assert.equal(await nextEvent(w, 200), 'timeout');
  });

  it('delivers transaction watch events only at commit', async () => {
    const w = await xs.watch(`${base}/tw`, 'tok-tw');
    await nextEvent(w);
    await xs.transaction(async (tx) => {
      await tx.write(`${base}/tw/x`, '1');
      assert.equal(await nextEvent(w, 100), 'timeout');
    });
    assert.deepEqual(await nextEvent(w), { path: `${base}/tw/x`, token: 'tok-tw' });
    await w.close();
  });

  it('introduces and releases domains, firing @introduceDomain and @releaseDomain', async () => {
    const domid = 30000 + (process.pid % 1000);
    const intro = await xs.watch('@introduceDomain', 'tok-i');
    const rel = await xs.watch('@releaseDomain', 'tok-r');
    assert.deepEqual(await nextEvent(intro), { path: '@introduceDomain', token: 'tok-i' });
    assert.deepEqual(await nextEvent(rel), { path: '@releaseDomain', token: 'tok-r' });
    assert.equal(await xs.isDomainIntroduced(domid), false);
    await xs.introduce(domid, 0x1234, 7);
    assert.deepEqual(await nextEvent(intro), { path: '@introduceDomain', token: 'tok-i' });
    assert.equal(await xs.isDomainIntroduced(domid), true);
    assert.equal(await xs.isDomainIntroduced(0), true);
    assert.equal(await xs.getDomainPath(domid), `/local/domain/${domid}`);
    await xs.resume(domid);
    await xs.setTarget(domid, 0);
    assert.equal(await code(xs.setTarget(domid, domid + 1)), 'ENOENT');
    await xs.release(domid);
    assert.deepEqual(await nextEvent(rel), { path: '@releaseDomain', token: 'tok-r' });
    assert.equal(await xs.isDomainIntroduced(domid), false);
    assert.equal(await code(xs.release(domid)), 'ENOENT');
    assert.equal(await code(xs.release(0)), 'EINVAL');
    await intro.close();
    await rel.close();
  });

  it('resets watches, and answers control requests', async () => {
    const w = await xs.watch(`${base}/r`, 'tok-r1');
    await nextEvent(w);
    await xs.resetWatches();
    await xs.write(`${base}/r/x`, '1');
    assert.equal(await nextEvent(w, 200), 'timeout');
    assert.match(await xs.control('help'), /quota/);
    assert.match(await xs.control('quota'), /nodes\s+:\s+1000/);
  });
}
