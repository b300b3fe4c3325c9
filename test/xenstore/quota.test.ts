/**
 * C xenstored 4.17's per-connection limits in the embedded daemon: what a connection that hits
 * one gets, checked against the C daemon where it can answer (a guest through its ring for the
 * unprivileged counts, raw socket packets for argument edge cases), and in the core itself for
 * the queue rules (outstanding replies, memory, duplicate and expired events).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XsClient } from '../../lib/xenstore/client.js';
import { XsOp, joinStrings, type Packet } from '../../lib/xenstore/messages.js';
import { PacketParser } from '../../lib/xenstore/parser.js';
import { serializePacket } from '../../lib/xenstore/serializer.js';
import { XenstoreCore } from '../../lib/xenstore/server/core.js';
import { EmbeddedXenstored } from '../../lib/xenstore/server/embedded.js';
import { OutputQueue } from '../../lib/xenstore/server/output-queue.js';
import { UnixSocketTransport } from '../../lib/xenstore/transport.js';
import { main } from '../../cli/main.js';
import { CapturedIo } from '../../cli/io.js';
import { openGuestXenstore } from '../support/guest-xenstore.js';
import { startRealXenstored, type RealXenstored } from '../support/real-xenstored.js';
import { startCliDaemon, type CliDaemon } from './cli-daemon.js';
import { code } from './suite.js';

/** Sends each packet on one raw connection and returns "type payload" of each reply. */
async function rawAsk(socket: string, packets: Packet[]): Promise<string[]> {
  const s = connect(socket);
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('error', reject);
  });
  const parser = new PacketParser();
  const got: Packet[] = [];
  s.on('data', (d: Buffer) => got.push(...parser.push(d)));
  const out: string[] = [];
  try {
    for (const p of packets) {
      const want = got.length + (p.type === XsOp.WATCH ? 2 : 1);
      s.write(serializePacket(p));
      for (const until = Date.now() + 15_000; got.length < want && Date.now() < until; ) await new Promise((r) => setTimeout(r, 10));
      while (got.length) {
        const r = got.shift()!;
        out.push(`${r.type} ${r.payload.toString('hex')}`);
      }
    }
  } finally {
    s.destroy();
  }
  return out;
}

const pk = (type: number, payload: string | Buffer, txId = 0): Packet => ({
  type,
  reqId: 9,
  txId,
  payload: typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload,
});

/** Edge cases where colo-xl answered differently from C 4.17 (issue 12). */
const EDGES: Array<[string, Packet]> = [
  ['RESUME abc', pk(XsOp.RESUME, 'abc\0')],
  ['RESUME 4294967296', pk(XsOp.RESUME, '4294967296\0')],
  ['RESUME 0', pk(XsOp.RESUME, '0\0')],
  ['RESUME 5 (unknown)', pk(XsOp.RESUME, '5\0')],
  ['INTRODUCE abc', pk(XsOp.INTRODUCE, 'abc\x001\x001\0')],
  ['INTRODUCE 4294967296', pk(XsOp.INTRODUCE, '4294967296\x001\x001\0')],
  ['READ without NUL', pk(XsOp.READ, '/tool')],
  ['DIRECTORY without NUL', pk(XsOp.DIRECTORY, '/tool')],
  ['GET_PERMS without NUL', pk(XsOp.GET_PERMS, '/tool')],
  ['READ empty payload', pk(XsOp.READ, '')],
  ['READ two strings', pk(XsOp.READ, '/tool\0/x\0')],
  ['ERROR with a tid', pk(XsOp.ERROR, 'x\0', 5)],
  ['WATCH_EVENT with a tid', pk(XsOp.WATCH_EVENT, 'x\0', 5)],
  ['op 20 with a tid', pk(20, 'x\0', 5)],
  ['op 99 with a tid', pk(99, 'x\0', 5)],
  ['WATCH with a non-UTF-8 token', pk(XsOp.WATCH, '/tool\0tok\xff\xc3\0')],
  ['UNWATCH it byte for byte', pk(XsOp.UNWATCH, '/tool\0tok\xff\xc3\0')],
];

describe('xenstored quotas and argument edge cases, colo-xl against C 4.17', function () {
  this.timeout(60_000);
  let c: RealXenstored;
  let ours: CliDaemon;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'colo-xl-quota-'));
    [c, ours] = await Promise.all([startRealXenstored(), startCliDaemon(join(dir, 'sock'))]);
  });
  after(async () => {
    await Promise.all([c?.stop(), ours?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the argument edge cases byte for byte like C (EINVAL, ENOENT, ENOSYS, token bytes)', async () => {
    const [theirs, mine] = await Promise.all([rawAsk(c.socketPath, EDGES.map((e) => e[1])), rawAsk(ours.socket, EDGES.map((e) => e[1]))]);
    assert.equal(theirs.length, mine.length);
    const text = (r: string[]): string => r.map((l, i) => `${EDGES[Math.min(i, EDGES.length - 1)]![0]}: ${l}`).join('\n');
    assert.equal(text(mine), text(theirs));
    // The watch's initial event carries the token's exact bytes.
    assert.ok(mine.includes(`${XsOp.WATCH_EVENT} ${Buffer.from('/tool\0tok\xff\xc3\0', 'latin1').toString('hex')}`));
  });

  it('prints the quota settings C prints', async () => {
    const ask = async (sock: string, args: string[]): Promise<string> => {
      const x = new XsClient(await UnixSocketTransport.connect(sock), { timeoutMs: 5000 });
      try {
        return await x.control(...args);
      } finally {
        await x.close();
      }
    };
    for (const args of [['quota'], ['quota-soft']]) assert.equal(await ask(ours.socket, args), await ask(c.socketPath, args));
  });

  it('lets a guest have 129 watches and 11 transactions, as C does, then E2BIG and ENOSPC', async () => {
    const dom0 = new XsClient(await UnixSocketTransport.connect(c.socketPath), { timeoutMs: 5000 });
    const theirGuest = await openGuestXenstore(c, 7);
    const embedded = new EmbeddedXenstored();
    const home = embedded.client();
    const ourGuest = embedded.client({ domid: 7 });
    const count = async (g: XsClient): Promise<string> => {
      let w = 0;
      while (w < 200 && (await code(g.watch(`/local/domain/7/w${w}`, `t${w}`))) === 'ok') w++;
      const watchErr = await code(g.watch('/local/domain/7/extra', 'extra'));
      let t = 0;
      while (t < 30 && (await code(g.request(XsOp.TRANSACTION_START, joinStrings(['']), 0))) === 'ok') t++;
      const txErr = await code(g.request(XsOp.TRANSACTION_START, joinStrings(['']), 0));
      return `${w} watches then ${watchErr}; ${t} transactions then ${txErr}`;
    };
    try {
      for (const x of [dom0, home]) {
        if (x === home) await home.introduce(7, 1, 1);
        await x.mkdir('/local/domain/7');
        await x.setPerms('/local/domain/7', [{ domid: 7, access: 'none' }]);
      }
      const [theirs, mine] = [await count(theirGuest), await count(ourGuest)];
      assert.equal(theirs, '129 watches then E2BIG; 11 transactions then ENOSPC');
      assert.equal(mine, theirs);
    } finally {
      await Promise.all([dom0.close(), theirGuest.close(), home.close(), ourGuest.close()]);
      await embedded.close();
    }
  });
});

describe('xenstored connection quotas in the core (outstanding, memory, events)', () => {
  const idle = { wake: (): void => undefined, abort: (): void => undefined };
  const req = (path: string, i: number): Packet => ({ type: XsOp.READ, reqId: i, txId: 0, payload: joinStrings([path]) });

  it('stops reading an unprivileged connection at 20 unread replies, dom0 goes on', () => {
    const core = new XenstoreCore();
    core.domains.introduce(7, '1', 1);
    const guest = core.connect(idle, 7);
    let handled = 0;
    while (guest.mayRead && handled < 100) core.handle(guest, req('/tool', handled++));
    assert.equal(handled, 20);
    guest.out.take();
    assert.equal(guest.mayRead, true);
    const dom0 = core.connect(idle, 0);
    for (let i = 0; i < 100; i++) core.handle(dom0, req('/tool', i));
    assert.equal(dom0.mayRead, true);
    assert.equal(core.domainUsage(7)!.outstanding, 19);
  });

  it('drops a watch event identical to a pending one, and events over the memory quota', async () => {
    const core = new XenstoreCore({ limits: { memory: 4096 } });
    core.domains.introduce(7, '1', 1);
    const writer = core.connect(idle, 0);
    const guest = core.connect(idle, 7);
    // /w and what is created below it: readable by everybody, so the guest hears of changes.
    core.handle(writer, { type: XsOp.WRITE, reqId: 1, txId: 0, payload: Buffer.from('/w\0') });
    core.handle(writer, { type: XsOp.SET_PERMS, reqId: 1, txId: 0, payload: joinStrings(['/w', 'r0']) });
    core.handle(guest, { type: XsOp.WATCH, reqId: 1, txId: 0, payload: joinStrings(['/w', 'tok']) });
    for (let i = 0; i < 3; i++) core.handle(writer, { type: XsOp.WRITE, reqId: 2, txId: 0, payload: Buffer.from('/w/same\0v') });
    // reply + initial event + one event for three identical changes
    assert.equal(guest.out.length, 3);
    for (let i = 0; i < 200; i++) core.handle(writer, { type: XsOp.WRITE, reqId: 2, txId: 0, payload: Buffer.from(`/w/n${i}\0v`) });
    assert.ok(guest.out.bytes <= 4096, `queue holds ${guest.out.bytes} bytes`);
    assert.ok(guest.out.dropped >= 170);
    // Events are refused before they reach the quota (domain_chk_quota), so they alone never
    // stop the guest being read; replies, which are never refused, can take it over.
    assert.equal(guest.mayRead, true);
    for (let i = 0; guest.mayRead && i < 100; i++) core.handle(guest, { type: XsOp.READ, reqId: 3, txId: 0, payload: joinStrings(['/w']) });
    assert.equal(guest.mayRead, false);
    // Replies are never dropped, and the tree took every write.
    assert.equal(core.store.get('/w')!.children.length, 201);
  });

  it('drops watch events that waited past their timeout, never replies', () => {
    let now = 1000;
    const q = new OutputQueue({ maxBytes: 0, eventTimeoutMs: 20_000 }, () => now);
    const ev = (s: string): Packet => ({ type: XsOp.WATCH_EVENT, reqId: 0, txId: 0, payload: joinStrings([s, 't']) });
    q.event(ev('/a'), false);
    q.reply({ type: XsOp.READ, reqId: 1, txId: 0, payload: Buffer.alloc(0) });
    now += 10_000;
    q.event(ev('/b'), false);
    now += 15_000;
    const left: string[] = [];
    for (let p = q.take(); p; p = q.take()) left.push(p.type === XsOp.READ ? 'reply' : p.payload.toString().split('\0')[0]!);
    assert.deepEqual(left, ['reply', '/b']);
    assert.equal(q.dropped, 1);
    assert.equal(q.bytes, 0);
  });

  it('refuses a guest transaction touching more than 1024 nodes (ENOSPC), not dom0', async () => {
    const d = new EmbeddedXenstored();
    const dom0 = d.client();
    const guest = d.client({ domid: 7 });
    try {
      await dom0.introduce(7, 1, 1);
      await dom0.mkdir('/local/domain/7');
      await dom0.setPerms('/local/domain/7', [{ domid: 7, access: 'none' }]);
      const touch = (x: XsClient, n: number): Promise<string> =>
        code(x.transaction(async (tx) => {
          for (let i = 0; i < n; i++) await tx.tryRead(`/local/domain/7/n${i}`);
        }));
      assert.equal(await touch(guest, 1000), 'ok');
      assert.equal(await touch(guest, 1100), 'ENOSPC');
      assert.equal(await touch(dom0, 1100), 'ok');
    } finally {
      await Promise.all([dom0.close(), guest.close()]);
      await d.close();
    }
  });
});

describe('colo-xl xenstored quota options (-W, -t, -Q, -q, -w, --backlog)', function () {
  this.timeout(30_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'colo-xl-quota-opts-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('takes C xenstored’s quota options and shows them in `xenstore-control quota`', async () => {
    const d = await startCliDaemon(join(dir, 's'), undefined, ['-W', '5', '-t', '3', '-E', '77', '-Q', 'outstanding=4', '--quota=memory=99999', '-q', 'memory=5555', '-w', 'watch-event=3', '--backlog', '123456']);
    const x = new XsClient(await UnixSocketTransport.connect(d.socket), { timeoutMs: 5000 });
    try {
      const q = await x.control('quota');
      for (const re of [/nodes\s+:\s+77 /, /watches\s+:\s+5 /, /transactions\s+:\s+3 /, /outstanding\s+:\s+4 /, /memory\s+:\s+99999 /]) assert.match(q, re);
      assert.match(await x.control('quota-soft'), /memory\s+:\s+5555 /);
      assert.equal(await x.control('quota', 'set', 'watches', '9'), 'OK');
      assert.match(await x.control('quota'), /watches\s+:\s+9 /);
      assert.equal(await code(x.control('quota', 'set', 'watches', '0')), 'EINVAL');
      assert.equal(await code(x.control('quota', '42')), 'ENOENT');
    } finally {
      await x.close();
      await d.stop();
    }
  });

  it('refuses bad quota values and names with status 2, as C refuses to start', async () => {
    for (const argv of [['-W', 'x'], ['-Q', 'memory'], ['-Q', 'bogus=1'], ['-q', 'outstanding=3'], ['-w', 'watch-event=-1'], ['--backlog', '']]) {
      const io = new CapturedIo();
      assert.equal(await main(['xenstored', ...argv], io), 2, argv.join(' '));
      assert.match(io.stderr, /^colo-xl xenstored: /);
    }
  });
});
