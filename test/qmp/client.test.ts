import assert from 'node:assert/strict';
import { join } from 'node:path';
import { QMPClient } from '../../lib/qmp/client.js';
import {
  QMPBadReplyError,
  QMPConnectError,
  QMPExecInterruptedError,
  QMPExecuteError,
  QMPGreetingError,
  QMPNegotiationError,
  QMPProtocolError,
  QMPError,
  QMPStateError,
  QMPTimeoutError,
  QMPUnexpectedReplyError,
} from '../../lib/qmp/errors.js';
import { Runstate } from '../../lib/qmp/protocol.js';
import { connectedConn, event, FakeQmpServer, GREETING, type FakeConn } from './fake-server.js';

describe('QMP client against a fake QMP server', () => {
  let server: FakeQmpServer;
  let client: QMPClient;
  beforeEach(async () => {
    server = await FakeQmpServer.unix();
    client = new QMPClient('fake');
  });
  afterEach(async () => {
    await client.disconnect();
    await server.close();
  });

  const connected = (): Promise<FakeConn> => connectedConn(server, client);

  it('reads the greeting, negotiates with an id, and walks the run-states', async () => {
    const states: Runstate[] = [];
    client.onRunstate((s) => states.push(s));
    const conn = server.accept();
    const done = client.connect(server.path);
    const c = await conn;
    c.send(GREETING);
    const caps = await c.next();
    assert.equal(caps.execute, 'qmp_capabilities');
    assert.equal(typeof caps.id, 'string');
    c.send({ return: {}, id: caps.id });
    await done;
    assert.equal(client.qemuVersion, '7.2.9');
    assert.equal(client.runstate, Runstate.RUNNING);
    await client.disconnect();
    assert.deepEqual(states, [Runstate.CONNECTING, Runstate.RUNNING, Runstate.DISCONNECTING, Runstate.IDLE]);
  });

  it('execute sends arguments under a fresh id and returns "return"', async () => {
    const c = await connected();
    const p1 = client.execute('query-status');
    const p2 = client.execute('nbd-server-add', { device: 'e1', writable: true });
    const m1 = await c.next();
    const m2 = await c.next();
    assert.notEqual(m1.id, m2.id);
    assert.deepEqual(m2.arguments, { device: 'e1', writable: true });
    assert.equal('arguments' in m1, false);
    // answered out of order: ids, not order, pair them up
    c.send({ return: {}, id: m2.id }, { return: { status: 'running', running: true }, id: m1.id });
    assert.deepEqual(await p1, { status: 'running', running: true });
    assert.deepEqual(await p2, {});
  });

  it('an error reply is a QMPExecuteError carrying the class, the message sent and the reply', async () => {
    const c = await connected();
    const p = client.execute('xen-set-replication', { enable: false, primary: false });
    const m = await c.next();
    const reply = { error: { class: 'GenericError', desc: 'Backup job was cancelled unexpectedly' }, id: m.id };
    c.send(reply);
    const e = await p.then(() => assert.fail('no error'), (x: unknown) => x);
    assert.ok(e instanceof QMPExecuteError && e instanceof QMPError);
    assert.equal(e.errorClass, 'GenericError');
    assert.equal(e.desc, 'Backup job was cancelled unexpectedly');
    assert.deepEqual(e.sent, { execute: 'xen-set-replication', arguments: { enable: false, primary: false }, id: m.id });
    assert.deepEqual(e.received, reply);
    assert.match(e.message, /^xen-set-replication: GenericError: Backup job/);
  });

  it('events sent before the greeting reach a listener registered before connect', async () => {
    const l = client.listen('SHUTDOWN');
    const conn = server.accept();
    const done = client.connect(server.path);
    const c = await conn;
    c.send(event('SHUTDOWN', { guest: false }), event('RESUME'));
    await c.handshake();
    await done;
    const e = await l.get({ timeoutMs: 1000 });
    assert.equal(e.event, 'SHUTDOWN');
    assert.deepEqual(e.data, { guest: false });
    assert.equal(l.pending, 0, 'RESUME was filtered out');
  });

  it('an event between qmp_capabilities and its reply is delivered and negotiation still succeeds', async () => {
    const l = client.listen();
    const conn = server.accept();
    const done = client.connect(server.path);
    const c = await conn;
    c.send(GREETING);
    const caps = await c.next();
    c.send(event('NBD_DEVICE'), { return: {}, id: caps.id });
    await done;
    assert.equal((await l.get({ timeoutMs: 1000 })).event, 'NBD_DEVICE');
    assert.equal(client.runstate, Runstate.RUNNING);
  });

  it('a reply with an unknown id is dropped, and the real reply still matches', async () => {
    const c = await connected();
    const p = client.execute('query-name');
    const m = await c.next();
    c.send({ return: { name: 'stale' }, id: 'nobody-sent-this' }, { return: { name: 'vm' }, id: m.id });
    assert.deepEqual(await p, { name: 'vm' });
    assert.equal(client.droppedReplies.length, 1);
    const d = client.droppedReplies[0];
    assert.ok(d instanceof QMPUnexpectedReplyError && d instanceof QMPProtocolError);
    assert.equal(d.id, 'nobody-sent-this');
    assert.deepEqual(JSON.parse(d.received), { return: { name: 'stale' }, id: 'nobody-sent-this' });
  });

  it('handles messages split across reads and merged into one read', async () => {
    const l = client.listen('STOP');
    const conn = server.accept();
    const done = client.connect(server.path);
    const c = await conn;
    const g = JSON.stringify(GREETING) + '\r\n';
    for (let i = 0; i < g.length; i += 7) {
      c.raw(g.slice(i, i + 7));
      await new Promise((r) => setTimeout(r, 1));
    }
    const caps = await c.next();
    c.send({ return: {}, id: caps.id });
    await done;
    const pa = client.execute('a');
    const pb = client.execute('b');
    const ma = await c.next();
    const mb = await c.next();
    const merged = [event('STOP'), { return: 1, id: ma.id }, { return: 2, id: mb.id }].map((x) => JSON.stringify(x)).join('\n') + '\n';
    const cut = merged.indexOf('"return": 2'.replace(' ', '')) - 3;
    c.raw(merged.slice(0, cut));
    await new Promise((r) => setTimeout(r, 5));
    c.raw(merged.slice(cut));
    assert.equal(await pa, 1);
    assert.equal(await pb, 2);
    assert.equal((await l.get({ timeoutMs: 1000 })).event, 'STOP');
  });

  it('a listener registered before the command sees the events it triggers, with for await', async () => {
    const c = await connected();
    const l = client.listen(['BLOCK_JOB_READY', 'BLOCK_JOB_COMPLETED'], (e) => e.data?.device === 'job0');
    const p = client.execute('drive-mirror', { device: 'd0', 'job-id': 'job0' });
    const m = await c.next();
    // QEMU may emit the job's events before the reply to the command that started the job
    c.send(event('BLOCK_JOB_READY', { device: 'job0' }), event('BLOCK_JOB_READY', { device: 'other' }), { return: {}, id: m.id });
    await p;
    c.send(event('BLOCK_JOB_COMPLETED', { device: 'job0' }));
    const seen: string[] = [];
    for await (const e of l) {
      seen.push(e.event);
      if (e.event === 'BLOCK_JOB_COMPLETED') break;
    }
    assert.deepEqual(seen, ['BLOCK_JOB_READY', 'BLOCK_JOB_COMPLETED']);
  });

  it('executeAndWait catches an event sent before the reply, and times out on a missing one', async () => {
    const c = await connected();
    const p = client.executeAndWait('BLOCK_JOB_COMPLETED', () => client.execute('block-job-cancel', { device: 'j' }), { timeoutMs: 1000 });
    const m = await c.next();
    c.send(event('BLOCK_JOB_COMPLETED', { device: 'j' }), { return: {}, id: m.id });
    assert.deepEqual((await p).data, { device: 'j' });
    const q = client.executeAndWait('COLO_EXIT', () => client.execute('x-colo-lost-heartbeat'), { timeoutMs: 50 });
    c.send({ return: {}, id: (await c.next()).id });
    await assert.rejects(q, (e: unknown) => e instanceof QMPTimeoutError && /no COLO_EXIT within 50 ms/.test(e.message));
  });

  it('a per-command timeout raises QMPTimeoutError and leaves the session usable', async () => {
    const c = await connected();
    const p = client.execute('slow', undefined, { timeoutMs: 50 });
    const m = await c.next();
    const e = await p.then(() => assert.fail('no timeout'), (x: unknown) => x);
    assert.ok(e instanceof QMPTimeoutError);
    assert.equal(e.sent?.id, m.id);
    c.send({ return: 'late', id: m.id });
    const p2 = client.execute('fast');
    c.send({ return: 'ok', id: (await c.next()).id });
    assert.equal(await p2, 'ok');
    assert.equal(client.droppedReplies.length, 1);
  });

  it('a lost connection fails waiting commands with QMPExecInterruptedError and ends listeners', async () => {
    const c = await connected();
    const l = client.listen();
    const p = client.execute('query-status');
    await c.next();
    c.close();
    const e = await p.then(() => assert.fail('no error'), (x: unknown) => x);
    assert.ok(e instanceof QMPExecInterruptedError);
    assert.equal(e.sent?.execute, 'query-status');
    assert.equal(await l.next(), null);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(client.runstate, Runstate.IDLE);
    await assert.rejects(client.execute('x'), QMPStateError);
  });

  it('hmp passes the command line and returns the text', async () => {
    const c = await connected();
    const p = client.hmp('info version');
    const m = await c.next();
    assert.deepEqual(m.arguments, { 'command-line': 'info version' });
    c.send({ return: '7.2.9\r\n', id: m.id });
    assert.equal(await p, '7.2.9\r\n');
  });

  it('rejects a bad greeting, a refused negotiation and non-JSON with protocol errors', async () => {
    let conn = server.accept();
    let done = client.connect(server.path);
    (await conn).send({ hello: 1 });
    await assert.rejects(done, (e: unknown) => e instanceof QMPGreetingError && e instanceof QMPProtocolError);
    assert.equal(client.runstate, Runstate.IDLE);

    conn = server.accept();
    done = client.connect(server.path);
    let c = await conn;
    c.send(GREETING);
    const caps = await c.next();
    c.send({ error: { class: 'CommandNotFound', desc: 'nope' }, id: caps.id });
    await assert.rejects(done, QMPNegotiationError);

    conn = server.accept();
    done = client.connect(server.path);
    c = await conn;
    c.raw('this is not json\n');
    await assert.rejects(done, QMPBadReplyError);
  });

  it('garbage during a session fails the waiting command with the QMPBadReplyError as cause', async () => {
    const c = await connected();
    const p = client.execute('query-status');
    await c.next();
    c.raw('{"return": \n');
    const e = await p.then(() => assert.fail('no error'), (x: unknown) => x);
    assert.ok(e instanceof QMPExecInterruptedError);
    assert.ok(e.cause instanceof QMPBadReplyError);
  });

  it('a missing socket is a QMPConnectError; retryMs waits for it to appear', async () => {
    const path = join(server.dir, 'late.sock');
    await assert.rejects(client.connect(path), (e: unknown) => e instanceof QMPConnectError && /late\.sock/.test(e.message));
    const late = new Promise<FakeQmpServer>((r) => setTimeout(() => void FakeQmpServer.unixAt(path).then(r), 100));
    const done = client.connect(path, { retryMs: 3000 });
    const s2 = await late;
    try {
      await (await s2.accept()).handshake();
      await done;
      assert.equal(client.runstate, Runstate.RUNNING);
    } finally {
      await client.disconnect();
      await s2.close();
    }
  });

  it('speaks QMP over loopback TCP too', async () => {
    const tcp = await FakeQmpServer.tcp();
    const c2 = new QMPClient();
    try {
      const conn = tcp.accept();
      const done = c2.connect({ host: '127.0.0.1', port: tcp.port });
      const c = await conn;
      await c.handshake();
      await done;
      const p = c2.execute('query-name');
      await c.reply({ name: 'tcp' });
      assert.deepEqual(await p, { name: 'tcp' });
    } finally {
      await c2.disconnect();
      await tcp.close();
    }
  });
});
