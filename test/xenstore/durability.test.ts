import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XsClient } from '../../lib/xenstore/client.js';
import { XsError } from '../../lib/xenstore/messages.js';
import { openXenstore } from '../../lib/xenstore/open.js';
import { EmbeddedStores } from '../../lib/xenstore/server/stores.js';
import { EmbeddedXenstored } from '../../lib/xenstore/server/embedded.js';
import { StateLockedError } from '../../lib/xenstore/server/lock.js';
import { UnixSocketTransport } from '../../lib/xenstore/transport.js';
import { startRealXenstored } from '../support/real-xenstored.js';
import { startCliDaemon, type CliDaemon } from './cli-daemon.js';

describe('embedded xenstored durability (--state) and the colo-xl xenstored command', function () {
  this.timeout(60_000);
  let dir: string;
  const daemons: CliDaemon[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'colo-xl-xsd-'));
  });
  afterEach(async () => {
    for (const d of daemons.splice(0)) await d.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('reloads the tree (values, perms, child order) from its journal', async () => {
    const state = join(dir, 'xs.journal');
    const a = new EmbeddedXenstored({ statePath: state });
    const c = a.client();
    for (const n of ['z', 'a', 'm']) await c.write(`/vm/${n}`, n);
    await c.setPerms('/vm/a', [{ domid: 3, access: 'read' }]);
    await c.transaction(async (tx) => {
      await tx.write('/vm/tx1', '1');
      await tx.rm('/vm/m');
    });
    await c.close();
    await a.close();
    // A torn last record (crash mid-append) is ignored.
    appendFileSync(state, '{"c":[["/vm/torn",{"v":"');
    const b = new EmbeddedXenstored({ statePath: state });
    const c2 = b.client();
    assert.deepEqual(await c2.directory('/vm'), ['z', 'a', 'tx1']);
    assert.deepEqual(await c2.getPerms('/vm/a'), [{ domid: 3, access: 'read' }]);
    assert.equal(await c2.read('/vm/a'), 'a');
    assert.equal(await c2.exists('/vm/torn'), false);
    assert.deepEqual(b.core.store.check(), []);
    await c2.close();
    await b.close();
  });

  it('replays to exactly the same tree after a random mix of writes, removals, perms and transactions', async () => {
    const state = join(dir, 'random.journal');
    const a = new EmbeddedXenstored({ statePath: state });
    const c = a.client();
    let x = 12345;
    const random = (): number => {
      x = (x * 1103515245 + 12345) >>> 0;
      return x / 0x100000000;
    };
    const paths = ['/j', '/j/a', '/j/a/b', '/j/b', '/j/b/c/d', '/j/e'];
    const pick = (): string => paths[Math.floor(random() * paths.length)]!;
    for (let i = 0; i < 400; i++) {
      const r = random();
      const p = pick();
      const step =
        r < 0.4 ? c.write(p, `v${i}`)
        : r < 0.55 ? c.rm(p)
        : r < 0.65 ? c.mkdir(p)
        : r < 0.75 ? c.setPerms(p, [{ domid: i % 4, access: 'read' }, { domid: 7, access: 'both' }])
        : c.transaction(async (tx) => {
            await tx.write(pick(), `t${i}`);
            if (random() < 0.5) await tx.rm(pick());
          });
      await step.catch((e: unknown) => {
        if (!(e instanceof XsError)) throw e;
      });
    }
    const dump = (d: EmbeddedXenstored): string[] =>
      [...d.core.store.walk()].map(([p, n]) => `${p}=${n.value.toString()} ${JSON.stringify(n.perms)} [${n.children.join(',')}]`);
    const before = dump(a);
    await c.close();
    await a.close();
    const b = new EmbeddedXenstored({ statePath: state });
    assert.deepEqual(dump(b), before);
    assert.ok(before.length > 5);
    await b.close();
  });

  it('loses no acknowledged write or transaction when killed with SIGKILL mid-stream', async () => {
    const socket = join(dir, 'socket');
    const state = join(dir, 'state.journal');
    const first = await startCliDaemon(socket, state);
    daemons.push(first);
    const c = new XsClient(await UnixSocketTransport.connect(socket), { timeoutMs: 5000 });
    let acked = -1;
    let stop = false;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        try {
          await c.transaction(async (tx) => {
            await tx.write(`/d/${i}/a`, `${i}`);
            await tx.write(`/d/${i}/b`, `${i}`);
          });
          await c.write(`/plain/${i}`, `${i}`);
          acked = i;
        } catch (e) {
          if (e instanceof XsError && e.errnoName === 'ECONNRESET') return;
          throw e;
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 700));
    await first.stop('SIGKILL');
    await writer;
    stop = true;
    await c.close();
    assert.ok(acked > 5, `only ${acked + 1} commits before the kill`);

    const second = await startCliDaemon(socket, state);
    daemons.push(second);
    const r = new XsClient(await UnixSocketTransport.connect(socket));
    const done = await r.directory('/d');
    for (let i = 0; i <= acked; i++) {
      assert.equal(await r.read(`/d/${i}/a`), `${i}`);
      assert.equal(await r.read(`/d/${i}/b`), `${i}`);
      assert.equal(await r.read(`/plain/${i}`), `${i}`);
    }
    // A commit in flight at the kill is all-or-nothing.
    for (const name of done) assert.deepEqual(await r.directory(`/d/${name}`), ['a', 'b']);
    assert.equal(await r.control('check'), 'OK');
    await r.close();
    await second.stop('SIGTERM');
    assert.equal(second.child.exitCode, 0);
    assert.ok(!existsSync(socket), 'socket removed on SIGTERM');
  });

  it('lets one process at a time own a state file; waits for it, and takes over a dead owner’s lock', async () => {
    const state = join(dir, 'locked', 'xs.journal');
    const first = new EmbeddedXenstored({ statePath: state });
    assert.throws(() => new EmbeddedXenstored({ statePath: state }), StateLockedError);
    const c = first.client();
    await c.write('/owner', 'first');
    await c.close();
    // openXenstore waits for the owner instead of failing.
    setTimeout(() => void first.close(), 150);
    const t0 = Date.now();
    const stores = new EmbeddedStores();
    const waited = await openXenstore({ mode: 'embedded', stores, statePath: state });
    assert.ok(Date.now() - t0 >= 100);
    assert.equal(await waited.read('/owner'), 'first');
    // A second client through the same owner shares the store; the lock goes with the last one.
    const shared = await openXenstore({ mode: 'embedded', stores, statePath: state });
    await waited.close();
    assert.ok(existsSync(`${state}.lock`));
    await shared.close();
    assert.ok(!existsSync(`${state}.lock`));
    // A lock naming a process that no longer exists is stale.
    writeFileSync(`${state}.lock`, '999999999\n');
    const after = new EmbeddedXenstored({ statePath: state });
    await after.close();
    // 'memory' is private and starts empty.
    const mem = await openXenstore({ mode: 'memory', stores: new EmbeddedStores() });
    assert.equal(mem.kind, 'embedded');
    assert.equal(await mem.exists('/owner'), false);
    await mem.close();
  });

  it("openXenstore 'auto' picks a live daemon, else (no Xen here) the embedded store under XDG_STATE_HOME", async () => {
    // an empty host root: no /proc/xen, no hypervisor in sysfs, no xenbus device
    mkdirSync(join(dir, 'host'), { recursive: true });
    const env = { XDG_STATE_HOME: join(dir, 'state'), XENSTORED_PATH: join(dir, 'no-such-socket'), COLO_XL_HOST_ROOT: join(dir, 'host') };
    const emb = await openXenstore({ env, mode: 'auto', stores: new EmbeddedStores() });
    assert.equal(emb.kind, 'embedded');
    await emb.write('/colo/x', '1');
    await emb.close();
    assert.ok(readFileSync(join(dir, 'state', 'colo-xl', 'xenstore.journal'), 'utf8').includes('/colo/x'));
    const again = await openXenstore({ env, mode: 'auto', stores: new EmbeddedStores() });
    assert.equal(await again.read('/colo/x'), '1');
    await again.close();

    const real = await startRealXenstored();
    try {
      const live = await openXenstore({ env: { ...env, XENSTORED_PATH: real.socketPath }, mode: 'auto', stores: new EmbeddedStores() });
      assert.equal(live.kind, 'socket');
      assert.equal(await live.exists('/colo/x'), false);
      assert.deepEqual(await live.directory('/tool'), ['xenstored']);
      await live.close();
      const viaRundir = await openXenstore({ env: { XENSTORED_RUNDIR: real.rundir, XDG_STATE_HOME: env.XDG_STATE_HOME } });
      assert.equal(viaRundir.kind, 'socket');
      await viaRundir.close();
    } finally {
      await real.stop();
    }
  });
});
