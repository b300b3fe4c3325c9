/**
 * Hostile QMP peers: whatever a server sends, the client ends the session with a typed
 * QMPProtocolError that carries (the start of) what was received, fails what waits with it as the
 * cause, and never throws out of a socket handler (which would end the whole process).
 */
import assert from 'node:assert/strict';
import { QMPClient } from '../../lib/qmp/client.js';
import {
  QMPBadReplyError,
  QMPConnectError,
  QMPExecInterruptedError,
  QMPGreetingError,
  QMPMessageTooLongError,
  QMPNestingTooDeepError,
  QMPProtocolError,
  QMPError,
  RECEIVED_EXCERPT_CHARS,
  QMPTimeoutError,
  QMPTruncatedMessageError,
  QMPUnexpectedReplyError,
} from '../../lib/qmp/errors.js';
import { DEFAULT_MAX_LINE_BYTES } from '../../lib/qmp/framing.js';
import type { ConnectOptions } from '../../lib/qmp/protocol.js';
import { Runstate } from '../../lib/qmp/protocol.js';
import { loggerFrom } from '../../lib/util/log.js';
import { AbortedError } from '../../lib/errors.js';
import { connectedConn, event, FakeQmpServer, GREETING, type FakeConn, type Msg } from './fake-server.js';

const nested = (depth: number, inner = '0'): string => '['.repeat(depth) + inner + ']'.repeat(depth);

describe('QMP client against hostile peers', () => {
  let server: FakeQmpServer;
  let client: QMPClient;
  let uncaught: unknown[];
  const onUncaught = (e: unknown): void => void uncaught.push(e);
  beforeEach(async () => {
    server = await FakeQmpServer.unix();
    client = new QMPClient('hostile');
    uncaught = [];
    process.on('uncaughtException', onUncaught);
  });
  afterEach(async () => {
    process.off('uncaughtException', onUncaught);
    await client.disconnect();
    await server.close();
    assert.deepEqual(uncaught, [], 'nothing escaped to the process');
  });

  const connected = (opts: ConnectOptions = {}): Promise<FakeConn> => connectedConn(server, client, opts);

  /** Runs a command, lets `misbehave` answer it, and returns why the command failed. */
  async function failedCommand(c: FakeConn, misbehave: (sent: Msg) => Promise<unknown> | void): Promise<QMPProtocolError> {
    // settled at once: the command may fail while `misbehave` is still writing
    const outcome = client.execute('query-status').then(() => assert.fail('the command succeeded'), (x: unknown) => x);
    const sent = await c.next();
    await misbehave(sent);
    const e = await outcome;
    assert.ok(e instanceof QMPExecInterruptedError, `QMPExecInterruptedError, got ${String(e)}`);
    assert.deepEqual(e.sent, sent);
    assert.ok(e.cause instanceof QMPProtocolError, `cause is a QMPProtocolError, got ${String(e.cause)}`);
    assert.equal(client.disconnectReason, e.cause);
    await waitIdle();
    return e.cause;
  }

  async function waitIdle(): Promise<void> {
    for (let i = 0; i < 200 && client.runstate !== Runstate.IDLE; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(client.runstate, Runstate.IDLE);
  }

  function assertCarries(e: QMPProtocolError, start: string): void {
    assert.ok(e.received.startsWith(start.slice(0, RECEIVED_EXCERPT_CHARS)), `received starts with ${start.slice(0, 40)}`);
    assert.ok(e.received.length <= RECEIVED_EXCERPT_CHARS + 1, 'received is truncated');
    assert.ok(e.message.length < 1000, 'the message is short');
  }

  describe('deep nesting', () => {
    for (const depth of [2000, 200_000]) {
      it(`a message nested ${depth} deep that is neither reply nor event ends the session, not the process`, async () => {
        const c = await connected();
        const line = `{"surprise": ${nested(depth)}}`;
        const e = await failedCommand(c, () => c.raw(line + '\r\n'));
        assert.ok(e instanceof QMPNestingTooDeepError && e instanceof QMPBadReplyError);
        assert.equal(e.limit, 1024);
        assert.equal(e.receivedBytes, line.length);
        assertCarries(e, line);
      });
    }

    it('a deeply nested reply is a QMPNestingTooDeepError, not a bare RangeError', async () => {
      const c = await connected();
      const e = await failedCommand(c, (sent) => c.raw(`{"return": ${nested(100_000)}, "id": ${JSON.stringify(sent.id)}}\n`));
      assert.ok(e instanceof QMPNestingTooDeepError);
    });

    it('a deeply nested event is refused too; brackets inside strings do not count', async () => {
      const c = await connected({ maxDepth: 10 });
      const p = client.execute('query-status');
      const sent = await c.next();
      c.send(event('STRINGS', { s: '['.repeat(5000) + '{"\\"['.repeat(100) }), { return: nested(9), id: sent.id });
      assert.equal(await p, nested(9));
      const e = await failedCommand(c, () => c.raw(JSON.stringify(event('DEEP', { d: JSON.parse(nested(10)) })) + '\n'));
      assert.ok(e instanceof QMPNestingTooDeepError);
      assert.equal(e.limit, 10);
    });

    it('maxDepth is configurable: 3000 levels pass with maxDepth 4000', async () => {
      const c = await connected({ maxDepth: 4000 });
      const p = client.execute('deep');
      const sent = await c.next();
      c.raw(`{"return": ${nested(3000)}, "id": ${JSON.stringify(sent.id)}}\n`);
      let v: unknown = await p;
      let d = 0;
      while (Array.isArray(v)) [v, d] = [v[0], d + 1];
      assert.equal(d, 3000);
    });
  });

  describe('malformed greetings', () => {
    const q = GREETING.QMP as { version: Msg; capabilities: unknown };
    const cases: Array<[string, string]> = [
      ['"version": null', JSON.stringify({ QMP: { version: null, capabilities: [] } })],
      ['"version": a string', JSON.stringify({ QMP: { version: '7.2', capabilities: [] } })],
      ['"qemu": null', JSON.stringify({ QMP: { ...q, version: { qemu: null, package: '' } } })],
      ['"major" a string', JSON.stringify({ QMP: { ...q, version: { qemu: { major: '7', minor: 2, micro: 0 }, package: '' } } })],
      ['"micro" missing', JSON.stringify({ QMP: { ...q, version: { qemu: { major: 7, minor: 2 }, package: '' } } })],
      ['"package" missing', JSON.stringify({ QMP: { ...q, version: { qemu: { major: 7, minor: 2, micro: 0 } } } })],
      ['"capabilities" missing', JSON.stringify({ QMP: { version: q.version } })],
      ['"capabilities" of numbers', JSON.stringify({ QMP: { version: q.version, capabilities: [1] } })],
      ['"QMP": null', '{"QMP": null}'],
      ['"QMP": an array', '{"QMP": []}'],
      ['a reply instead', '{"return": {}}'],
    ];
    for (const [what, line] of cases) {
      it(`a greeting with ${what} is a QMPGreetingError carrying the line`, async () => {
        const conn = server.accept();
        const done = client.connect(server.path);
        (await conn).raw(line + '\r\n');
        const e = await done.then(() => assert.fail('connected'), (x: unknown) => x);
        assert.ok(e instanceof QMPGreetingError && e instanceof QMPProtocolError && e instanceof QMPError, String(e));
        assert.equal(e.received, line);
        assert.equal(client.runstate, Runstate.IDLE);
        assert.equal(client.greeting, null);
      });
    }

    const bad: Array<[string, string, new (...a: never[]) => QMPProtocolError]> = [
      ['not JSON', 'QMP ready\n', QMPBadReplyError],
      ['nested 20,000 deep', `{"QMP": ${nested(20_000)}}\n`, QMPNestingTooDeepError],
      ['cut off by a close', '{"QMP": {"version": {"qemu": {"major": 7', QMPTruncatedMessageError],
      ['longer than maxLineBytes', `{"QMP": "${'x'.repeat(70_000)}"}\n`, QMPMessageTooLongError],
    ];
    for (const [what, text, cls] of bad) {
      it(`a greeting ${what} fails connect with ${cls.name}`, async () => {
        const conn = server.accept();
        const done = client.connect(server.path, { maxLineBytes: 65_536 });
        (await conn).endWith(text);
        const e = await done.then(() => assert.fail('connected'), (x: unknown) => x);
        assert.ok(e instanceof cls, `${cls.name}, got ${String(e)}`);
        assertCarries(e, text.trimEnd());
        assert.equal(client.runstate, Runstate.IDLE);
      });
    }
  });

  describe('over-long lines', () => {
    it(`a line over the default ${DEFAULT_MAX_LINE_BYTES} bytes is refused at the limit, not buffered whole`, async () => {
      const c = await connected();
      let sentBytes = 0;
      const e = await failedCommand(c, async (sent) => {
        sentBytes = await c.stream(`{"id": ${JSON.stringify(sent.id)}, "return": "`, 50_000_000, '"}\n');
      });
      assert.ok(e instanceof QMPMessageTooLongError);
      assert.equal(e.limit, DEFAULT_MAX_LINE_BYTES);
      assert.ok(e.receivedBytes > DEFAULT_MAX_LINE_BYTES && e.receivedBytes <= DEFAULT_MAX_LINE_BYTES + (1 << 20) + 64);
      assertCarries(e, '{"id": "colo-xl-');
      assert.ok(sentBytes < 40_000_000, `the client hung up early (server wrote ${sentBytes} bytes)`);
    });

    it('maxLineBytes is configurable; a line just under it passes, one over it fails', async () => {
      const c = await connected({ maxLineBytes: 1 << 20 });
      const p = client.execute('big');
      const sent = await c.next();
      const prefix = `{"id": ${JSON.stringify(sent.id)}, "return": "`;
      await c.stream(prefix, (1 << 20) - prefix.length - 3, '"}\n', 4096);
      assert.equal(((await p) as string).length, (1 << 20) - prefix.length - 3);
      const e = await failedCommand(c, (s) => c.stream(`{"id": ${JSON.stringify(s.id)}, "return": "`, 1 << 20, '"}\n', 4096));
      assert.ok(e instanceof QMPMessageTooLongError);
      assert.equal(e.limit, 1 << 20);
    });
  });

  describe('malformed messages', () => {
    const cases: Array<[string, string]> = [
      ['invalid JSON', '{"return": {]}'],
      ['a JSON array', '[{"return": {}}]'],
      ['a JSON number', '42'],
      ['a JSON string', '"return"'],
      ['JSON null', 'null'],
      ['an error without class/desc', '{"error": "boom"}'],
      ['an event whose data is not an object', '{"event": "STOP", "data": 5, "timestamp": {}}'],
      ['an event whose name is not a string', '{"event": {"name": "STOP"}}'],
      ['neither reply nor event', '{"hello": "world"}'],
      ['both return and error', '{"return": {}, "error": {"class": "x", "desc": "y"}}'],
      ['a return without an id', '{"return": {"status": "running"}}'],
    ];
    for (const [what, line] of cases) {
      it(`${what} ends the session with a QMPBadReplyError carrying the line`, async () => {
        const c = await connected();
        const e = await failedCommand(c, () => c.raw(line + '\r\n'));
        assert.ok(e instanceof QMPBadReplyError, `QMPBadReplyError, got ${e.name}`);
        assert.equal(e.received, line);
      });
    }

    it('an id-less error reply still answers the oldest command (QEMU could not parse it)', async () => {
      const c = await connected();
      const p = client.execute('query-status');
      await c.next();
      c.send({ error: { class: 'GenericError', desc: 'JSON parse error' } });
      await assert.rejects(p, /GenericError: JSON parse error/);
      assert.equal(client.runstate, Runstate.RUNNING);
    });

    it('a throwing logger ends the session with a QMPError, not the process', async () => {
      await client.disconnect();
      client = new QMPClient({
        name: 'hostile',
        // throws on the first message received once the session runs (the reply below)
        logger: loggerFrom((_level, message) => {
          if (message === 'recv' && client.runstate === Runstate.RUNNING) throw new RangeError('logger bug');
        }),
      });
      const c = await connected();
      const p = client.execute('query-status');
      c.send({ return: {}, id: (await c.next()).id });
      const e = await p.then(() => assert.fail('succeeded'), (x: unknown) => x);
      assert.ok(e instanceof QMPExecInterruptedError && e.cause instanceof QMPError);
      assert.ok((e.cause as Error).cause instanceof RangeError);
    });
  });

  describe('replies for no one', () => {
    it('a reply whose id matches nothing is dropped and recorded; the session goes on', async () => {
      const c = await connected();
      c.send({ return: 1, id: 'nobody' }, { return: 2, id: { deep: [1, 2] } });
      const p = client.execute('query-name');
      c.send({ return: 'ok', id: (await c.next()).id });
      assert.equal(await p, 'ok');
      assert.deepEqual(client.droppedReplies.map((d) => [d instanceof QMPUnexpectedReplyError, d.id]), [
        [true, 'nobody'],
        [true, { deep: [1, 2] }],
      ]);
      assert.equal(client.droppedReplies[0]?.received, '{"return":1,"id":"nobody"}');
    });

    it('a flood of stray replies keeps only the newest 32 in memory', async () => {
      const c = await connected();
      const flood = Array.from({ length: 5000 }, (_, i) => ({ return: 'x'.repeat(100), id: `stray-${i}` }));
      c.send(...flood);
      const p = client.execute('query-name');
      c.send({ return: 'ok', id: (await c.next()).id });
      assert.equal(await p, 'ok');
      assert.equal(client.droppedCount, 5000);
      assert.equal(client.droppedReplies.length, 32);
      assert.equal(client.droppedReplies.at(-1)?.id, 'stray-4999');
    });
  });

  describe('closes and silences', () => {
    it('a peer that closes mid-line fails the command with QMPTruncatedMessageError carrying the partial line', async () => {
      const c = await connected();
      const e = await failedCommand(c, (sent) => c.endWith(`{"return": {"status": "runn`.replace('{', `{"id": ${JSON.stringify(sent.id)}, `)));
      assert.ok(e instanceof QMPTruncatedMessageError);
      assert.match(e.received, /^\{"id": "colo-xl-\d+", "return": \{"status": "runn$/);
      assert.equal(e.receivedBytes, Buffer.byteLength(e.received));
    });

    it('a peer that never answers: the command times out, the session stays usable', async () => {
      const c = await connected();
      const p = client.execute('query-status', undefined, { timeoutMs: 100 });
      const sent = await c.next();
      await assert.rejects(p, (e: unknown) => e instanceof QMPTimeoutError && e.sent?.id === sent.id);
      assert.equal(client.runstate, Runstate.RUNNING);
      const q = client.execute('query-name');
      c.send({ return: 'vm', id: (await c.next()).id });
      assert.equal(await q, 'vm');
    });

    it('a peer that never greets: connect fails with a QMPConnectError after timeoutMs', async () => {
      const conn = server.accept();
      const t0 = Date.now();
      const done = client.connect(server.path, { timeoutMs: 150 });
      await conn;
      const e = await done.then(() => assert.fail('connected'), (x: unknown) => x);
      assert.ok(e instanceof QMPConnectError && e.cause instanceof QMPTimeoutError, String(e));
      assert.ok(Date.now() - t0 < 5000);
      assert.equal(client.runstate, Runstate.IDLE);
    });

    it("the caller's signal stops a connect waiting for a greeting with an AbortedError", async () => {
      const ac = new AbortController();
      const conn = server.accept();
      const done = client.connect(server.path, { signal: ac.signal, timeoutMs: 30_000 });
      await conn;
      ac.abort(new Error('operator'));
      const e = await done.then(() => assert.fail('connected'), (x: unknown) => x);
      assert.ok(e instanceof AbortedError && e.code === 'ABORTED', String(e));
      assert.equal((e.cause as Error).message, 'operator');
      assert.equal(client.runstate, Runstate.IDLE);
    });

    it("the caller's signal stops a connect retrying a missing socket with an AbortedError", async () => {
      const ac = new AbortController();
      const retrying = client.connect(`${server.dir}/absent.sock`, { signal: ac.signal, retryMs: 30_000 });
      setTimeout(() => ac.abort(), 50);
      await assert.rejects(retrying, AbortedError);
      assert.equal(client.runstate, Runstate.IDLE);
    });

    it('a flood of unsolicited messages during set-up ends it', async () => {
      const conn = server.accept();
      const done = client.connect(server.path);
      const c = await conn;
      c.send(GREETING, ...Array.from({ length: 50 }, (_, i) => ({ return: i, id: `x${i}` })));
      const e = await done.then(() => assert.fail('connected'), (x: unknown) => x);
      assert.ok(e instanceof QMPProtocolError, String(e));
    });
  });
});
