import assert from 'node:assert/strict';
import type { Xenstore } from '../../lib/xenstore/api.js';
import { XsClient } from '../../lib/xenstore/client.js';
import { XsError, XsOp, joinStrings } from '../../lib/xenstore/messages.js';
import { EmbeddedXenstored } from '../../lib/xenstore/server/embedded.js';
import { code } from './suite.js';
import { eventWithin } from './watch-wait.js';


describe('embedded xenstored: permissions and domain identity', () => {
  let d: EmbeddedXenstored;
  let dom0: XsClient;
  let dom5: XsClient;
  let dom6: XsClient;
  beforeEach(async () => {
    d = new EmbeddedXenstored();
    dom0 = d.client();
    dom5 = d.client({ domid: 5 });
    dom6 = d.client({ domid: 6 });
    await dom0.introduce(5, 1, 1);
    await dom0.introduce(6, 2, 2);
    await dom0.mkdir('/local/domain/5');
    await dom0.setPerms('/local/domain/5', [{ domid: 5, access: 'none' }]);
  });
  afterEach(async () => {
    await Promise.all([dom0, dom5, dom6].map((c) => c.close()));
  });

  it('hides dom0-only nodes (EACCES), and says ENOENT only where the parent is readable', async () => {
    await dom0.write('/secret/x', 'v');
    assert.equal(await code(dom5.read('/secret/x')), 'EACCES');
    assert.equal(await code(dom5.read('/secret/none')), 'EACCES');
    assert.equal(await code(dom5.read('/local/domain/5/none')), 'ENOENT');
    assert.equal(await code(dom5.write('/secret/y', 'v')), 'EACCES');
    assert.equal(await code(dom5.directory('/')), 'EACCES');
  });

  it('grants by owner, by ACL entry, then by the "others" entry', async () => {
    await dom0.write('/shared', 'v');
    await dom0.setPerms('/shared', [{ domid: 0, access: 'read' }, { domid: 6, access: 'none' }]);
    assert.equal(await dom5.read('/shared'), 'v');
    assert.equal(await code(dom6.read('/shared')), 'EACCES');
    assert.equal(await code(dom5.write('/shared', 'w')), 'EACCES');
    await dom0.setPerms('/shared', [{ domid: 0, access: 'none' }, { domid: 5, access: 'both' }]);
    await dom5.write('/shared', 'from5');
    assert.equal(await dom0.read('/shared'), 'from5');
  });

  it('resolves relative paths in the connection’s home and makes unprivileged creators owners', async () => {
    await dom5.write('data/x', '1');
    assert.equal(await dom0.read('/local/domain/5/data/x'), '1');
    assert.deepEqual(await dom0.getPerms('/local/domain/5/data/x'), [{ domid: 5, access: 'none' }]);
    await dom0.write('/local/domain/5/by0', '1');
    assert.deepEqual(await dom0.getPerms('/local/domain/5/by0'), [{ domid: 5, access: 'none' }]);
    // The owner may change the ACL, but not give the node away.
    await dom5.setPerms('data/x', [{ domid: 5, access: 'read' }, { domid: 6, access: 'both' }]);
    assert.equal(await code(dom5.setPerms('data/x', [{ domid: 6, access: 'none' }])), 'EPERM');
    assert.equal(await dom6.read('/local/domain/5/data/x'), '1');
  });

  it('lets a device model act for its target after SET_TARGET', async () => {
    await dom5.write('data/y', 'v');
    assert.equal(await code(dom6.read('/local/domain/5/data/y')), 'EACCES');
    await dom0.setTarget(6, 5);
    assert.equal(await dom6.read('/local/domain/5/data/y'), 'v');
  });

  it('refuses privileged operations to guests (EACCES)', async () => {
    assert.equal(await code(dom5.introduce(9, 1, 1)), 'EACCES');
    assert.equal(await code(dom5.release(6)), 'EACCES');
    assert.equal(await code(dom5.isDomainIntroduced(0)), 'EACCES');
    assert.equal(await code(dom5.setTarget(5, 6)), 'EACCES');
    assert.equal(await code(dom5.control('help')), 'EACCES');
    assert.equal(await dom5.getDomainPath(5), '/local/domain/5');
  });

  it('only tells watchers about nodes they may read', async () => {
    const w = await dom5.watch('/', 'all');
    assert.deepEqual(await eventWithin(w, 500), { path: '/', token: 'all' });
    await dom0.write('/private', 'x');
    await dom0.write('/local/domain/5/mine', 'x');
    assert.deepEqual(await eventWithin(w, 500), { path: '/local/domain/5/mine', token: 'all' });
    assert.equal(await eventWithin(w, 100), undefined);
  });

  it('closes a released domain’s connections and fires @releaseDomain', async () => {
    const w = await dom0.watch('@releaseDomain', 'r');
    await eventWithin(w, 500);
    await dom0.release(5);
    assert.deepEqual(await eventWithin(w, 500), { path: '@releaseDomain', token: 'r' });
    assert.equal(await code(dom5.read('/local/domain/5')), 'ECONNRESET');
  });
});

describe('embedded xenstored: quotas (C xenstored defaults, unprivileged domains only)', () => {
  let d: EmbeddedXenstored;
  let dom0: Xenstore;
  let guest: Xenstore;
  beforeEach(async () => {
    d = new EmbeddedXenstored();
    dom0 = d.client();
    guest = d.client({ domid: 7 });
    await dom0.introduce(7, 1, 1);
    await dom0.mkdir('/local/domain/7');
    await dom0.setPerms('/local/domain/7', [{ domid: 7, access: 'none' }]);
  });
  afterEach(async () => {
    await dom0.close();
    await guest.close();
  });

  it('limits nodes per domain to 1000 (ENOSPC) but not dom0', async () => {
    // /local/domain/7 is owned by 7 too; 40 directories of 24 leaves make 1001 nodes. (Nested,
    // because a node's child list counts against its 2048-byte size quota.)
    const paths = Array.from({ length: 40 * 24 }, (_, i) => `d${Math.floor(i / 24)}/c${i % 24}`);
    await Promise.all(paths.slice(0, -1).map((p) => guest.write(p, '')));
    assert.equal(await code(guest.write(paths[paths.length - 1]!, '')), 'ENOSPC');
    await guest.rm('d0/c0');
    await guest.write(paths[paths.length - 1]!, '');
    await Promise.all(Array.from({ length: 1200 }, (_, i) => dom0.write(`/dom0/n${i}`, '')));
  });

  // C checks the watch and transaction counts with '>', so 129 watches and 11 transactions pass.
  it('limits node size to 2048 bytes, watches to 128+1 and transactions to 10+1', async () => {
    assert.equal(await code(guest.write('big', 'x'.repeat(2100))), 'ENOSPC');
    // A refused creation leaves no half-made branch.
    assert.equal(await code(guest.write('deep/er/big', 'x'.repeat(2100))), 'ENOSPC');
    assert.equal(await guest.exists('deep'), false);
    await guest.write('ok', 'x'.repeat(1900));
    await dom0.write('/dom0-big', 'x'.repeat(4000));
    const watches = await Promise.all(Array.from({ length: 129 }, (_, i) => guest.watch(`w${i}`, `t${i}`)));
    assert.equal(await code(guest.watch('w-extra', 'extra')), 'E2BIG');
    await watches[0]!.close();
    await guest.watch('w-extra', 'extra');
    const raw = guest as XsClient;
    const ids = await Promise.all(Array.from({ length: 11 }, () => raw.request(XsOp.TRANSACTION_START, joinStrings(['']), 0)));
    assert.equal(ids.length, 11);
    assert.equal(await code(raw.request(XsOp.TRANSACTION_START, joinStrings(['']), 0)), 'ENOSPC');
  });

  it('limits permissions per node to 5 for guests', async () => {
    await guest.write('p', '');
    const perms = Array.from({ length: 6 }, (_, i) => ({ domid: i === 0 ? 7 : i, access: 'read' as const }));
    assert.equal(await code(guest.setPerms('p', perms)), 'ENOSPC');
    await guest.setPerms('p', perms.slice(0, 5));
  });
});

describe('embedded xenstored: transaction conflicts like C xenstored', () => {
  const d = new EmbeddedXenstored();
  const xs = d.client();
  const other = d.client();
  const start = async (): Promise<number> => Number((await xs.request(XsOp.TRANSACTION_START, joinStrings(['']), 0)).toString().replace('\0', ''));
  const end = (id: number): Promise<string> =>
    xs.request(XsOp.TRANSACTION_END, joinStrings(['T']), id).then(
      () => 'ok',
      (e: XsError) => e.errnoName,
    );

  // [case, what the transaction does, what another connection does meanwhile, the commit's answer]
  const conflicts: Array<[string, [op: number, payload: string], string, string]> = [
    ['a node the transaction read changed', [XsOp.READ, '/c/a\0'], '/c/a', 'EAGAIN'],
    ['only an unrelated node changed', [XsOp.WRITE, '/c/a/new\0v'], '/elsewhere', 'ok'],
    ['a listed directory gained a child', [XsOp.DIRECTORY, '/c\0'], '/c/b', 'EAGAIN'],
    ['both sides created the same parent', [XsOp.WRITE, '/fresh/x\0v'], '/fresh/y', 'EAGAIN'],
  ];
  for (const [name, [op, payload], theirs, answer] of conflicts) {
    it(`commit answers ${answer} when ${name}`, async () => {
      await xs.write('/c/a', '0');
      const id = await start();
      await xs.request(op, Buffer.from(payload, 'latin1'), id);
      await other.write(theirs, '1');
      assert.equal(await end(id), answer);
    });
  }

  it('a transaction that lost leaves nothing behind', async () => {
    assert.equal(await code(xs.read('/fresh/x')), 'ENOENT');
  });

  it('answers ENOENT for unknown transaction ids, EBUSY for nesting, EINVAL for a bad end', async () => {
    assert.equal(await code(xs.request(XsOp.READ, joinStrings(['/c']), 4242)), 'ENOENT');
    const id = await start();
    assert.equal(await code(xs.request(XsOp.TRANSACTION_START, joinStrings(['']), id)), 'EBUSY');
    assert.equal(await code(xs.request(XsOp.TRANSACTION_END, joinStrings(['X']), id)), 'EINVAL');
    assert.equal(await code(xs.request(XsOp.TRANSACTION_END, joinStrings(['F']), id)), 'ok');
  });

  it('keeps the tree consistent (control check)', async () => {
    assert.equal(await xs.control('check'), 'OK');
    assert.deepEqual(d.core.store.check(), []);
  });
});
