/**
 * The client's seams: an injected stream or stream factory instead of a socket (pg's
 * `config.stream`), the injected logger that shows the traffic, bounded and cancellable waits,
 * disposal, and the error codes.
 */
import assert from 'node:assert/strict';
import { ColoXlError, AbortedError, WaitTimeoutError } from '../../lib/errors.js';
import { QMPClient } from '../../lib/qmp/client.js';
import * as errors from '../../lib/qmp/errors.js';
import { EventHub } from '../../lib/qmp/events.js';
import { Runstate, type QmpAddress, type TraceEntry } from '../../lib/qmp/protocol.js';
import { loggerFrom, type LogFields } from '../../lib/util/log.js';
import { event, FakeConn, GREETING, memoryPair } from './fake-server.js';

/** A client on an in-memory pair, greeted and negotiated; `client` may be given its options. */
async function onPair(client = new QMPClient('mem')): Promise<{ client: QMPClient; c: FakeConn }> {
  const { clientEnd, conn } = memoryPair();
  const done = client.connect('mem', { stream: clientEnd });
  await conn.handshake();
  await done;
  return { client, c: conn };
}

describe('QMP client on an injected stream', () => {
  it('speaks QMP over an in-memory Duplex, no socket involved', async () => {
    const { client, c } = await onPair();
    const p = client.execute('query-name');
    await c.reply({ name: 'memory' });
    assert.deepEqual(await p, { name: 'memory' });
    assert.equal(client.qemuVersion, '7.2.9');
    await client.disconnect();
    assert.equal(client.runstate, Runstate.IDLE);
  });

  it('reassembles a greeting written a byte at a time and a reply split inside a UTF-8 character', async () => {
    const { clientEnd, conn } = memoryPair();
    const client = new QMPClient('split');
    const done = client.connect('split', { stream: clientEnd });
    for (const b of Buffer.from(JSON.stringify(GREETING) + '\r\n')) conn.sock.write(Buffer.from([b]));
    conn.send({ return: {}, id: (await conn.next()).id });
    await done;
    const p = client.execute('query-name');
    const line = Buffer.from(JSON.stringify({ return: { name: 'é-vm' }, id: (await conn.next()).id }) + '\n');
    const cut = line.indexOf(Buffer.from('é')) + 1;
    conn.sock.write(line.subarray(0, cut));
    await new Promise((r) => setImmediate(r));
    conn.sock.write(line.subarray(cut));
    assert.deepEqual(await p, { name: 'é-vm' });
    await client.disconnect();
  });

  it('a peer that ends its side of the stream ends the session (no close event needed)', async () => {
    const { client, c } = await onPair();
    const p = client.execute('query-status');
    await c.next();
    c.sock.end();
    await assert.rejects(p, errors.QMPExecInterruptedError);
    assert.ok(client.disconnectReason instanceof errors.QMPConnectionClosedError);
  });

  it('a stream factory gets the address and a signal, and is retried while it is refused', async () => {
    const seen: QmpAddress[] = [];
    let refusals = 2;
    const { clientEnd, conn } = memoryPair();
    const client = new QMPClient('factory');
    const done = client.connect({ host: 'tls.example', port: 4444 }, {
      retryMs: 5000,
      stream: async (address, signal) => {
        seen.push(address);
        assert.equal(signal.aborted, false);
        if (refusals-- > 0) throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
        return clientEnd;
      },
    });
    await conn.handshake();
    await done;
    assert.deepEqual(seen, Array(3).fill({ host: 'tls.example', port: 4444 }));
    await client.disconnect();
  });

  it('a factory that fails otherwise fails connect at once with a QMPConnectError', async () => {
    const client = new QMPClient('factory');
    const e = await client
      .connect('x', { retryMs: 60_000, stream: () => Promise.reject(Object.assign(new Error('bad certificate'), { code: 'CERT_BAD' })) })
      .then(() => assert.fail('connected'), (x: unknown) => x);
    assert.ok(e instanceof errors.QMPConnectError && e.code === 'QMP_CONNECT', String(e));
    assert.match(e.message, /bad certificate/);
  });
});

describe('QMP client logging', () => {
  it('each message sent and received is a debug line scoped to the connection, its fields a TraceEntry', async () => {
    const lines: Array<{ level: string; message: string; fields: LogFields }> = [];
    const client = new QMPClient({ name: 'logged', logger: loggerFrom((level, message, fields) => lines.push({ level, message, fields })) });
    const { c } = await onPair(client);
    const p = client.execute('query-status');
    await c.reply({ status: 'running' });
    await p;
    await client.disconnect();
    const traffic = lines.filter((l) => l.message === 'send' || l.message === 'recv');
    assert.deepEqual(
      traffic.map((l) => [l.level, (l.fields as unknown as TraceEntry).dir, Object.keys((l.fields as unknown as TraceEntry).msg)[0]]),
      [
        ['debug', 'recv', 'QMP'],
        ['debug', 'send', 'execute'],
        ['debug', 'recv', 'return'],
        ['debug', 'send', 'execute'],
        ['debug', 'recv', 'return'],
      ],
    );
    assert.ok(lines.every((l) => l.fields.scope === 'qmp mem'));
    assert.ok(traffic.every((l) => typeof l.fields.at === 'number'));
    assert.ok(lines.some((l) => l.level === 'info' && l.message === 'connected' && l.fields.qemu === '7.2.9'));
  });
});

describe('QMP waits: { signal, timeoutMs }', () => {
  let client: QMPClient;
  let c: FakeConn;
  beforeEach(async () => ({ client, c } = await onPair()));
  afterEach(() => client.disconnect());

  it('execute given up by its signal is an AbortedError; the late reply is dropped, the session goes on', async () => {
    const ac = new AbortController();
    const p = client.execute('slow', undefined, { signal: ac.signal });
    const sent = await c.next();
    ac.abort();
    await assert.rejects(p, AbortedError);
    c.send({ return: 'late', id: sent.id });
    const q = client.execute('fast');
    await c.reply('ok');
    assert.equal(await q, 'ok');
    assert.equal(client.droppedCount, 1);
  });

  it('execute past its timeoutMs is a QMPTimeoutError (code QMP_TIMEOUT) with the WaitTimeoutError as cause', async () => {
    const p = client.execute('slow', undefined, { timeoutMs: 30 });
    const sent = await c.next();
    const e = await p.then(() => assert.fail('answered'), (x: unknown) => x);
    assert.ok(e instanceof errors.QMPTimeoutError && e.code === 'QMP_TIMEOUT');
    assert.ok(e.cause instanceof WaitTimeoutError);
    assert.deepEqual([e.sent, e.timeoutMs], [sent, 30]);
  });

  it('EventListener.next: an event, then a QMPTimeoutError at timeoutMs, then an AbortedError on the signal', async () => {
    const l = client.listen('STOP');
    c.send(event('STOP'));
    assert.equal((await l.next({ timeoutMs: 1000 }))?.event, 'STOP');
    await assert.rejects(l.next({ timeoutMs: 20 }), (e: unknown) => e instanceof errors.QMPTimeoutError && /no STOP within 20 ms/.test(e.message));
    const ac = new AbortController();
    const waiting = l.next({ signal: ac.signal });
    ac.abort();
    await assert.rejects(waiting, AbortedError);
    // the waits given up left no waiter behind: the next event is queued for the next caller
    c.send(event('STOP', { n: 2 }));
    assert.deepEqual((await l.get({ timeoutMs: 1000 })).data, { n: 2 });
  });

  it('get() on a listener closed by the disconnect is a QMPExecInterruptedError', async () => {
    const l = client.listen('SHUTDOWN');
    const waiting = l.get();
    await client.disconnect();
    await assert.rejects(waiting, errors.QMPExecInterruptedError);
  });
});

describe('QMP lifecycle', () => {
  it('[Symbol.asyncDispose] ends the session; a listener disposed of leaves its hub', async () => {
    const { client } = await onPair();
    const l = client.listen('STOP');
    await l[Symbol.asyncDispose]();
    assert.equal(l.isClosed, true);
    await client[Symbol.asyncDispose]();
    assert.equal(client.runstate, Runstate.IDLE);
  });

  it('onRunstate returns the function that unsubscribes', async () => {
    const client = new QMPClient('states');
    const states: Runstate[] = [];
    const off = client.onRunstate((s) => states.push(s));
    await onPair(client);
    off();
    await client.disconnect();
    assert.deepEqual(states, [Runstate.CONNECTING, Runstate.RUNNING]);
  });

  it('droppedReplies keeps droppedRepliesKept of them and counts them all', async () => {
    const { client, c } = await onPair(new QMPClient({ name: 'few', droppedRepliesKept: 2 }));
    c.send(...[1, 2, 3].map((i) => ({ return: i, id: `stray-${i}` })));
    const p = client.execute('query-name');
    await c.reply('ok');
    await p;
    assert.deepEqual([client.droppedCount, client.droppedReplies.map((d) => d.id)], [3, ['stray-2', 'stray-3']]);
    await client.disconnect();
  });

  it('an EventHub forgets a closed listener and closes all on closeAll', () => {
    const hub = new EventHub();
    const a = hub.listen('A');
    hub.listen();
    a.close();
    assert.equal(hub.size, 1);
    hub.closeAll();
    assert.equal(hub.size, 0);
  });
});

describe('QMP error codes', () => {
  const sent = { execute: 'x', id: '1' };
  const table: Array<[string, string, () => Error]> = [
    ['QMPError', 'QMP_ERROR', () => new errors.QMPError('m')],
    ['QMPConnectError', 'QMP_CONNECT', () => new errors.QMPConnectError('m')],
    ['QMPStateError', 'QMP_STATE', () => new errors.QMPStateError('m', 'IDLE')],
    ['QMPProtocolError', 'QMP_PROTOCOL', () => new errors.QMPProtocolError('m', 'line')],
    ['QMPConnectionClosedError', 'QMP_CONNECTION_CLOSED', () => new errors.QMPConnectionClosedError('m')],
    ['QMPGreetingError', 'QMP_GREETING', () => new errors.QMPGreetingError('m', 'line')],
    ['QMPNegotiationError', 'QMP_NEGOTIATION', () => new errors.QMPNegotiationError('m', 'line')],
    ['QMPBadReplyError', 'QMP_BAD_REPLY', () => new errors.QMPBadReplyError('m', 'line', sent)],
    ['QMPNestingTooDeepError', 'QMP_NESTING_TOO_DEEP', () => new errors.QMPNestingTooDeepError('[[[', 2)],
    ['QMPMessageTooLongError', 'QMP_MESSAGE_TOO_LONG', () => new errors.QMPMessageTooLongError('xx', 1, 2)],
    ['QMPTruncatedMessageError', 'QMP_TRUNCATED_MESSAGE', () => new errors.QMPTruncatedMessageError('{"a')],
    ['QMPUnexpectedReplyError', 'QMP_UNEXPECTED_REPLY', () => new errors.QMPUnexpectedReplyError('{}', 'id')],
    ['QMPExecuteError', 'QMP_EXECUTE', () => new errors.QMPExecuteError(sent, { error: { class: 'C', desc: 'd' } })],
    ['QMPExecInterruptedError', 'QMP_EXEC_INTERRUPTED', () => new errors.QMPExecInterruptedError('m', sent)],
    ['QMPTimeoutError', 'QMP_TIMEOUT', () => new errors.QMPTimeoutError('m', { sent, timeoutMs: 5 })],
    ['QMPCapabilityError', 'QMP_CAPABILITY', () => new errors.QMPCapabilityError('f', ['command c'])],
  ];
  it('the table names every exported error class', () => {
    const classes = Object.keys(errors).filter((k) => k.endsWith('Error'));
    assert.deepEqual(classes.sort(), table.map(([n]) => n).sort());
  });
  for (const [name, code, make] of table) {
    it(`${name}: code ${code} (also its static code), name ${name}, a QMPError and a ColoXlError`, () => {
      const e = make() as ColoXlError;
      assert.deepEqual([e.code, (e.constructor as unknown as { code: string }).code, e.name], [code, code, name]);
      assert.ok(e instanceof errors.QMPError && e instanceof ColoXlError);
    });
  }
});
