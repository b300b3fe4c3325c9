import assert from 'node:assert/strict';
import { QMPClient } from '../../lib/qmp/client.js';
import { QMPBadReplyError, QMPCapabilityError } from '../../lib/qmp/errors.js';
import { LineSplitter } from '../../lib/qmp/framing.js';
import { parseMessage } from '../../lib/qmp/message.js';
import { requireFeature, XEN_DISK_REPLICATION } from '../../lib/qmp/probe.js';
import { connectedConn, FakeQmpServer, type FakeConn } from './fake-server.js';

/** A schema shaped like QEMU's (numbered type names), for a QEMU built without replication. */
function schema(opts: { failoverArg: boolean; drivers: string[] }): unknown[] {
  return [
    { name: 'xen-set-replication', 'meta-type': 'command', 'arg-type': '10', 'ret-type': '0' },
    {
      name: '10',
      'meta-type': 'object',
      members: [
        { name: 'enable', type: 'bool' },
        { name: 'primary', type: 'bool' },
        ...(opts.failoverArg ? [{ name: 'failover', type: 'bool', default: null }] : []),
      ],
    },
    { name: 'blockdev-add', 'meta-type': 'command', 'arg-type': '20', 'ret-type': '0' },
    { name: '20', 'meta-type': 'object', members: [{ name: 'driver', type: '21' }], tag: 'driver', variants: [] },
    { name: '21', 'meta-type': 'enum', values: opts.drivers },
  ];
}

describe('QMP capability probing (fake QEMU)', () => {
  let server: FakeQmpServer;
  let client: QMPClient;
  beforeEach(async () => {
    server = await FakeQmpServer.unix();
    client = new QMPClient();
  });
  afterEach(async () => {
    await client.disconnect();
    await server.close();
  });

  async function answer(c: FakeConn, commands: string[], s: unknown[]): Promise<void> {
    const q1 = await c.next();
    assert.equal(q1.execute, 'query-commands');
    c.send({ return: commands.map((name) => ({ name })), id: q1.id });
    const q2 = await c.next();
    assert.equal(q2.execute, 'query-qmp-schema');
    c.send({ return: s, id: q2.id });
  }

  it('a QEMU without replication fails up front with one error naming everything missing', async () => {
    const c = await connectedConn(server, client);
    const p = requireFeature(client, 'Xen COLO disk replication', XEN_DISK_REPLICATION);
    await answer(c, ['nbd-server-start', 'nbd-server-add', 'nbd-server-stop', 'human-monitor-command', 'x-blockdev-change', 'xen-set-replication'], schema({ failoverArg: false, drivers: ['qcow2', 'nbd', 'quorum'] }));
    const e = await p.then(() => assert.fail('accepted'), (x: unknown) => x);
    assert.ok(e instanceof QMPCapabilityError);
    assert.deepEqual(e.missing, [
      'command xen-colo-do-checkpoint',
      'command query-xen-replication-status',
      'argument xen-set-replication.failover',
      'block driver replication',
    ]);
    assert.match(e.message, /^this QEMU cannot do Xen COLO disk replication: missing command xen-colo-do-checkpoint/);
  });

  it('a complete QEMU passes', async () => {
    const c = await connectedConn(server, client);
    const p = requireFeature(client, 'Xen COLO disk replication', XEN_DISK_REPLICATION);
    await answer(c, XEN_DISK_REPLICATION.commands ?? [], schema({ failoverArg: true, drivers: ['qcow2', 'nbd', 'quorum', 'replication'] }));
    const caps = await p;
    assert.ok(caps.hasCommand('xen-colo-do-checkpoint'));
    assert.deepEqual([...caps.commandArgs('xen-set-replication')], ['enable', 'primary', 'failover']);
  });
});

describe('QMP message framing', () => {
  it('LineSplitter keeps partial lines and strips CR', () => {
    const s = new LineSplitter();
    assert.deepEqual(s.push('{"a":1}\r\n{"b"'), ['{"a":1}']);
    assert.deepEqual(s.push(':2}\n\n{"c":3}\r\n'), ['{"b":2}', '{"c":3}']);
    assert.equal(s.rest, '');
  });

  it('LineSplitter decodes UTF-8 split inside a character', () => {
    const s = new LineSplitter();
    const bytes = Buffer.from('{"d":"é"}\n');
    assert.deepEqual(s.push(bytes.subarray(0, 7)), []);
    assert.deepEqual(s.push(bytes.subarray(7)), ['{"d":"é"}']);
  });

  it('parseMessage refuses non-objects and malformed errors', () => {
    assert.throws(() => parseMessage('[1]'), QMPBadReplyError);
    assert.throws(() => parseMessage('{"error": "x"}'), QMPBadReplyError);
    assert.deepEqual(parseMessage('{"return": {}, "id": "a"}'), { return: {}, id: 'a' });
  });
});
