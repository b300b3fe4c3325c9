import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import fc from 'fast-check';
import { startRealXenstored, type RealXenstored } from '../support/real-xenstored.js';
import { requireFile } from '../support/require-tool.js';
import {
  HEADER_SIZE,
  PAYLOAD_MAX,
  XS_ERRNOS,
  XsError,
  XsOp,
  canonicalPath,
  formatPerm,
  isSubpath,
  isValidPath,
  joinStrings,
  opName,
  parentPath,
  parsePerm,
  splitStrings,
  type Packet,
} from '../../lib/xenstore/messages.js';
import { PacketParser, XsFramingError } from '../../lib/xenstore/parser.js';
import { serializePacket, serializePackets } from '../../lib/xenstore/serializer.js';

const XS_WIRE_H = '/usr/include/xen/io/xs_wire.h';

describe('xenstore wire protocol', () => {
  it('numbers every op like Xen 4.17 xs_wire.h (parsed from the installed header)', () => {
    const text = readFileSync(requireFile(XS_WIRE_H, 'libxen-dev'), 'utf8');
    const body = /enum xsd_sockmsg_type\s*\{([\s\S]*?)\};/.exec(text)![1]!;
    const fromHeader = new Map<string, number>();
    let next = 0;
    for (const raw of body.split('\n')) {
      const line = raw.replace(/\/\*.*?\*\//g, '').trim();
      const m = /^XS_([A-Z_]+)\s*(?:=\s*([^,]+))?,?$/.exec(line);
      if (!m) continue;
      let value = next;
      if (m[2]) {
        const expr = /^XS_([A-Z_]+)\s*\+\s*(\d+)$/.exec(m[2].trim());
        value = expr ? fromHeader.get(expr[1]!)! + Number(expr[2]) : Number(m[2]);
      }
      fromHeader.set(m[1]!, value);
      next = value + 1;
    }
    for (const [name, code] of Object.entries(XsOp)) assert.equal(code, fromHeader.get(name), name);
    const inHeader = [...fromHeader.keys()].filter((k) => k !== 'TYPE_COUNT' && k !== 'INVALID');
    assert.deepEqual(inHeader.sort(), Object.keys(XsOp).sort());
    assert.equal(opName(2), 'READ');
    assert.equal(opName(20), 'OP20');
  });

  it('knows every xsd_errors name of the header', () => {
    const text = readFileSync(requireFile(XS_WIRE_H, 'libxen-dev'), 'utf8');
    const names = [...text.matchAll(/XSD_ERROR\((E[A-Z0-9]+)\)/g)].map((m) => m[1]);
    assert.deepEqual(names, Object.keys(XS_ERRNOS));
    const e = new XsError('ENOENT', 'READ', '/a/b');
    assert.equal(e.errno, 2);
    assert.match(e.message, /READ \/a\/b: ENOENT/);
  });

  it('validates paths like C xenstored (chars, slashes, charged length)', () => {
    for (const ok of ['/', '/a', '/a/b-c_d@e', '/local/domain/5/' + 'x'.repeat(2047), '/' + 'y'.repeat(2047)]) {
      assert.ok(isValidPath(ok), ok.slice(0, 40));
    }
    for (const bad of ['', 'a', '/a/', '//', '/a//b', '/a b', '/a.b', '/é', '/' + 'y'.repeat(2048), '@introduceDomain']) {
      assert.ok(!isValidPath(bad), bad.slice(0, 40));
    }
    assert.ok(isValidPath('@introduceDomain', true));
    assert.equal(canonicalPath('device/vbd', 3), '/local/domain/3/device/vbd');
    assert.equal(canonicalPath('/x', 3), '/x');
    assert.equal(parentPath('/a/b'), '/a');
    assert.equal(parentPath('/a'), '/');
    assert.ok(isSubpath('/a/b', '/a') && isSubpath('/a', '/a') && isSubpath('/a', '/'));
    assert.ok(!isSubpath('/ab', '/a'));
  });

  it('parses and formats permission strings', () => {
    assert.deepEqual(parsePerm('r5'), { domid: 5, access: 'read' });
    assert.deepEqual(parsePerm('b0'), { domid: 0, access: 'both' });
    assert.equal(formatPerm({ domid: 12, access: 'write' }), 'w12');
    assert.equal(formatPerm({ domid: 1, access: 'none' }), 'n1');
    for (const bad of ['', 'x1', 'r', 'r-1', 'r1a', 'R1']) assert.throws(() => parsePerm(bad), XsError, bad);
    fc.assert(
      fc.property(fc.constantFrom('none', 'read', 'write', 'both' as const), fc.integer({ min: 0, max: 65535 }), (access, domid) => {
        assert.deepEqual(parsePerm(formatPerm({ domid, access })), { domid, access });
      }),
    );
  });

  it('splits and joins NUL-terminated payload strings', () => {
    assert.deepEqual(splitStrings(joinStrings(['/a', 'tok'])), ['/a', 'tok']);
    assert.deepEqual(splitStrings(Buffer.from('a\0b')), ['a']);
    assert.deepEqual(splitStrings(Buffer.alloc(0)), []);
  });

  it('serializes the 16-byte little-endian header', () => {
    const b = serializePacket({ type: XsOp.WRITE, reqId: 0x01020304, txId: 7, payload: Buffer.from('/a\0v') });
    assert.equal(b.length, HEADER_SIZE + 4);
    assert.deepEqual([...b.subarray(0, 16)], [11, 0, 0, 0, 4, 3, 2, 1, 7, 0, 0, 0, 4, 0, 0, 0]);
    assert.throws(() => serializePacket({ type: 2, reqId: 1, txId: 0, payload: Buffer.alloc(PAYLOAD_MAX + 1) }), /E2BIG/);
  });

  it('frames packets fed in random-sized chunks, byte-identically', () => {
    const packet = fc.record({
      type: fc.integer({ min: 0, max: 0xffff }),
      reqId: fc.nat(),
      txId: fc.nat(),
      payload: fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
    });
    fc.assert(
      fc.property(fc.array(packet, { minLength: 1, maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1 }), (packets, cuts) => {
        const bytes = serializePackets(packets);
        const parser = new PacketParser();
        const out: Packet[] = [];
        let off = 0;
        for (let i = 0; off < bytes.length; i++) {
          const n = cuts[i % cuts.length]!;
          out.push(...parser.push(bytes.subarray(off, off + n)));
          off += n;
        }
        assert.equal(parser.pending, 0);
        assert.deepEqual(out, packets.map((p) => ({ ...p })));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a header announcing more than 4096 bytes, for good', () => {
    const parser = new PacketParser();
    const head = Buffer.alloc(16);
    head.writeUInt32LE(PAYLOAD_MAX + 1, 12);
    assert.throws(() => parser.push(head), XsFramingError);
    assert.throws(() => parser.push(serializePacket({ type: 1, reqId: 1, txId: 0, payload: Buffer.alloc(0) })), XsFramingError);
    // Exactly the limit is fine.
    const ok = new PacketParser();
    assert.equal(ok.push(serializePacket({ type: 1, reqId: 1, txId: 0, payload: Buffer.alloc(PAYLOAD_MAX) })).length, 1);
  });
});

describe('framing the byte stream of a real C xenstored', function () {
  this.timeout(30_000);
  let real: RealXenstored;
  let stream: Buffer;
  before(async () => {
    real = await startRealXenstored();
    // A burst of requests (values up to the payload limit, a watch with its events, errors),
    // and every byte the daemon sends back, exactly as it arrives.
    const sock = connect(real.socketPath);
    await new Promise((r) => sock.once('connect', r));
    const chunks: Buffer[] = [];
    sock.on('data', (d: Buffer) => chunks.push(d));
    const reqs: Packet[] = [
      { type: XsOp.WATCH, reqId: 1, txId: 0, payload: joinStrings(['/f', 'tok']) },
      ...Array.from({ length: 40 }, (_, i): Packet => ({ type: XsOp.WRITE, reqId: 10 + i, txId: 0, payload: Buffer.concat([Buffer.from(`/f/n${i}\0`), Buffer.alloc((i * 97) % 4000, 0x61 + (i % 26))]) })),
      ...Array.from({ length: 40 }, (_, i): Packet => ({ type: XsOp.READ, reqId: 100 + i, txId: 0, payload: joinStrings([`/f/n${i}`]) })),
      { type: XsOp.READ, reqId: 200, txId: 0, payload: joinStrings(['/missing']) },
      { type: XsOp.DIRECTORY, reqId: 201, txId: 0, payload: joinStrings(['/f']) },
    ];
    sock.write(serializePackets(reqs));
    const want = reqs.length + 41; // replies, plus the initial fire and one event per write
    for (let i = 0; i < 200; i++) {
      const got = new PacketParser().push(Buffer.concat(chunks)).length;
      if (got >= want) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    sock.destroy();
    stream = Buffer.concat(chunks);
  });
  after(async () => real?.stop());

  it('yields the same packets whatever the chunking', () => {
    const whole = new PacketParser().push(stream);
    assert.equal(whole.length, 124);
    assert.equal(whole.filter((p) => p.type === XsOp.WATCH_EVENT).length, 41);
    assert.deepEqual(splitStrings(whole.find((p) => p.reqId === 200)!.payload), ['ENOENT']);
    assert.equal(whole.find((p) => p.reqId === 139)!.payload.length, (39 * 97) % 4000);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 50 }), (cuts) => {
        const parser = new PacketParser();
        const out: Packet[] = [];
        for (let off = 0, i = 0; off < stream.length; i++) {
          const n = cuts[i % cuts.length]!;
          out.push(...parser.push(stream.subarray(off, off + n)));
          off += n;
        }
        assert.equal(parser.pending, 0);
        assert.deepEqual(out, whole);
      }),
      { numRuns: 200 },
    );
  });
});
