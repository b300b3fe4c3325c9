import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WaitTimeoutError } from '../../lib/errors.js';
import { XsClient } from '../../lib/xenstore/client.js';
import { XsError } from '../../lib/xenstore/messages.js';
import { EmbeddedXenstored } from '../../lib/xenstore/server/embedded.js';
import { UnixSocketTransport, XenbusDeviceTransport } from '../../lib/xenstore/transport.js';
import { startRealXenstored, type RealXenstored } from '../support/real-xenstored.js';
import { clientSuite } from './suite.js';

describe('xenstore client against Xen 4.17 C xenstored (real daemon, no hypervisor)', function () {
  this.timeout(30_000);
  let real: RealXenstored;
  before(async () => {
    real = await startRealXenstored();
  });
  after(async () => real?.stop());
  clientSuite(() => ({ connect: async () => new XsClient(await UnixSocketTransport.connect(real.socketPath)) }));
});

describe('xenstore client against the embedded xenstored over its unix socket', function () {
  this.timeout(30_000);
  let daemon: EmbeddedXenstored;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'colo-xl-xs-'));
    daemon = new EmbeddedXenstored();
    await daemon.listen(join(dir, 'socket'));
  });
  after(async () => {
    await daemon?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  clientSuite(() => ({ connect: async () => new XsClient(await UnixSocketTransport.connect(join(dir, 'socket'))) }));
});

describe('xenstore client against the embedded xenstored in-process', function () {
  const daemon = new EmbeddedXenstored();
  clientSuite(() => ({ connect: async () => daemon.client() }));
});

describe('xenstore client transport behaviour', () => {
  let dir: string;
  let server: Server | undefined;
  const peers = new Set<Socket>();
  const track = (s: Socket): void => {
    peers.add(s);
    s.on('close', () => peers.delete(s));
  };
  beforeEach(() => {
    server = undefined;
    dir = mkdtempSync(join(tmpdir(), 'colo-xl-xs-'));
  });
  afterEach(async () => {
    for (const s of peers) s.destroy();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('times out a request the daemon never answers, with a WaitTimeoutError', async () => {
    server = createServer(track);
    await new Promise<void>((r) => server!.listen(join(dir, 's'), r));
    const c = new XsClient(await UnixSocketTransport.connect(join(dir, 's')), { timeoutMs: 100 });
    const err = await c.read('/x').catch((e: unknown) => e);
    assert.ok(err instanceof WaitTimeoutError);
    assert.equal(err.code, 'WAIT_TIMEOUT');
    assert.equal(err.what, 'xenstore READ /x');
    assert.equal(c.inFlight, 0);
    await c.close();
  });

  it('fails every pending request with ECONNRESET when the daemon goes away, and ends watches', async () => {
    server = createServer((s) => {
      track(s);
      s.on('data', () => s.destroy());
    });
    await new Promise<void>((r) => server!.listen(join(dir, 's'), r));
    const c = new XsClient(await UnixSocketTransport.connect(join(dir, 's')));
    const results = await Promise.allSettled([c.read('/a'), c.read('/b'), c.write('/c', 'v')]);
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.equal((r.reason as XsError).errnoName, 'ECONNRESET');
    }
    await assert.rejects(c.read('/d'), (e: XsError) => e.errnoName === 'ECONNRESET');
    await c.close();
  });

  it('closes cleanly: later calls fail fast and close() is idempotent', async () => {
    const d = new EmbeddedXenstored();
    const c = d.client();
    await c.write('/x', '1');
    await c.close();
    await c.close();
    await assert.rejects(c.read('/x'), (e: XsError) => e.errnoName === 'ECONNRESET');
    assert.equal(d.core.connectionCount, 0);
  });

  it('moves whole packets through a device fd (xenbus transport, on a FIFO that loops back)', async () => {
    // No /dev/xen/xenbus here: a FIFO opened read-write hands every request back as its own
    // "reply", which still proves the framing in both directions through read(2)/write(2).
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const c = new XsClient(XenbusDeviceTransport.open(fifo), { timeoutMs: 2000 });
    assert.equal(c.kind, 'xenbus');
    const echoed = await Promise.all([c.read('/a'), c.readBuffer('/b/c'), c.read('/d')]);
    assert.deepEqual(echoed.map(String), ['/a\0', '/b/c\0', '/d\0']);
    await c.close();
  });

  it('refuses a value over 4096 bytes client-side (E2BIG)', async () => {
    const d = new EmbeddedXenstored();
    const c = d.client();
    await assert.rejects(c.write('/x', 'v'.repeat(5000)), (e: XsError) => e.errnoName === 'E2BIG');
    await c.close();
  });
});
