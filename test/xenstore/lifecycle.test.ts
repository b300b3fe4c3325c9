/**
 * The client's bounded waits, typed errors, logger and disposal (issue 13), on the embedded store
 * and on a socket peer that never answers.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbortedError, ColoXlError, InvalidArgumentError, WaitTimeoutError } from '../../lib/errors.js';
import { loggerFrom, type LogFields } from '../../lib/util/log.js';
import { XsClient } from '../../lib/xenstore/client.js';
import { XsError, XsTransactionConflict } from '../../lib/xenstore/messages.js';
import { openXenstore, XenstoreUnavailableError } from '../../lib/xenstore/open.js';
import { XsFramingError } from '../../lib/xenstore/parser.js';
import { EmbeddedXenstored } from '../../lib/xenstore/server/embedded.js';
import { JournalFormatError } from '../../lib/xenstore/server/journal-record.js';
import { StateLockedError } from '../../lib/xenstore/server/lock.js';
import { UnixSocketTransport } from '../../lib/xenstore/transport.js';

describe('xenstore errors: one root, stable codes, names equal to the classes', () => {
  const cases: Array<[ColoXlError, string, string]> = [
    [new XsError('ENOENT', 'READ', '/x'), 'XS_ENOENT', 'XsError'],
    [new XsError('ECONNRESET'), 'XS_ECONNRESET', 'XsError'],
    [new XsTransactionConflict(3), 'XS_EAGAIN', 'XsTransactionConflict'],
    [new XsFramingError(99999), 'XS_FRAMING', 'XsFramingError'],
    [new XenstoreUnavailableError([]), 'XS_UNAVAILABLE', 'XenstoreUnavailableError'],
    [new StateLockedError('/s', 1), 'XS_STATE_LOCKED', 'StateLockedError'],
    [new JournalFormatError('/j', 1, 'bad'), 'XS_JOURNAL_FORMAT', 'JournalFormatError'],
  ];
  for (const [err, code, name] of cases) {
    it(`${name} has code ${code}`, () => {
      assert.ok(err instanceof ColoXlError);
      assert.equal(err.code, code);
      assert.equal(err.name, name);
    });
  }
  it('XsError keeps the errno name and number', () => {
    const e = new XsError('ENOENT', 'READ', '/x');
    assert.deepEqual([e.errnoName, e.errno], ['ENOENT', 2]);
  });
});

describe('xenstore waits: {signal, timeoutMs} and typed errors', function () {
  this.timeout(10_000);
  let d: EmbeddedXenstored;
  let c: XsClient;
  beforeEach(() => {
    d = new EmbeddedXenstored();
    c = d.client();
  });
  afterEach(async () => {
    await c.close();
    await d.close();
  });

  it('watch.next({timeoutMs}) fails with WaitTimeoutError and leaves the next event queued', async () => {
    const w = await c.watch('/a', 'a');
    assert.deepEqual(await w.next(), { path: '/a', token: 'a' });
    await assert.rejects(w.next({ timeoutMs: 30 }), WaitTimeoutError);
    await c.write('/a', '1');
    assert.deepEqual(await w.next({ timeoutMs: 1000 }), { path: '/a', token: 'a' });
    await w[Symbol.asyncDispose]();
    assert.equal(await w.next(), undefined);
  });

  it('watch.next({signal}) fails with AbortedError carrying the reason', async () => {
    const w = await c.watch('/b', 'b');
    await w.next();
    const ac = new AbortController();
    const waiting = w.next({ signal: ac.signal });
    ac.abort('stop');
    await assert.rejects(waiting, (e: unknown) => e instanceof AbortedError && e.cause === 'stop');
    await assert.rejects(w.next({ signal: ac.signal }), AbortedError);
    await w.close();
  });

  it('transaction({timeoutMs}) gives up with WaitTimeoutError and commits nothing', async () => {
    const err = await c
      .transaction(
        async (tx) => {
          await tx.write('/t', 'v');
          await new Promise((r) => setTimeout(r, 80));
        },
        { timeoutMs: 30 },
      )
      .catch((e: unknown) => e);
    assert.ok(err instanceof WaitTimeoutError, String(err));
    assert.equal(await c.exists('/t'), false);
  });

  it("openXenstore's embedded modes need an owner of the stores (InvalidArgumentError)", async () => {
    for (const mode of ['embedded', 'memory', 'auto'] as const) {
      await assert.rejects(openXenstore({ mode }), InvalidArgumentError, mode);
    }
  });
});

describe('xenstore client on a peer that never answers', function () {
  this.timeout(10_000);
  let dir: string;
  let server: Server;
  const peers = new Set<Socket>();
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'colo-xl-xs-life-'));
    server = createServer((s) => void peers.add(s));
    await new Promise<void>((r) => server.listen(join(dir, 's'), r));
  });
  afterEach(async () => {
    for (const s of peers) s.destroy();
    peers.clear();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a request with a signal fails with AbortedError and leaves nothing in flight', async () => {
    const c = new XsClient(await UnixSocketTransport.connect(join(dir, 's')));
    const ac = new AbortController();
    const reading = c.read('/x').catch((e: unknown) => e);
    const bounded = c.request(2, Buffer.from('/y\0'), 0, '/y', { signal: ac.signal });
    ac.abort();
    await assert.rejects(bounded, AbortedError);
    assert.equal(c.inFlight, 1);
    await c[Symbol.asyncDispose]();
    const lost = await reading;
    assert.ok(lost instanceof XsError && lost.errnoName === 'ECONNRESET', String(lost));
  });

  it('logs to the injected logger, scoped by the socket, and prints nothing', async () => {
    const lines: Array<[string, string, LogFields]> = [];
    const c = new XsClient(await UnixSocketTransport.connect(join(dir, 's')), { timeoutMs: 40, logger: loggerFrom((l, m, f) => lines.push([l, m, f])) });
    await assert.rejects(c.read('/x'), WaitTimeoutError);
    await c.close();
    const timedOut = lines.find(([, m]) => m === 'request timed out');
    assert.ok(timedOut, JSON.stringify(lines));
    assert.equal(timedOut[2].scope, `xenstore ${join(dir, 's')}`);
  });
});
