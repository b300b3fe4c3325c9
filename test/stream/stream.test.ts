/**
 * The save stream's wire format (lib/stream): xl's save header and libxl's padded records, read
 * back however the bytes are cut — whole, one byte at a time, or in random chunks (each seed
 * printed in its test's name reproduces its cuts).
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import {
  CHECKPOINT_NEW,
  CHECKPOINT_SVM_READY,
  checkpointState,
  ExactReader,
  readRecord,
  readSaveHeader,
  record,
  REC_TYPE_CHECKPOINT_END,
  REC_TYPE_CHECKPOINT_STATE,
  saveHeader,
  StreamEnd,
} from '../../lib/stream/index.js';
import { xorshift32 } from '../support/rng.js';

/** A reader fed `chunks` one write at a time (a tick apart, so each is its own 'data'), then the end. */
function readerOf(chunks: Buffer[]): ExactReader {
  const s = new PassThrough();
  const r = new ExactReader(s);
  void (async () => {
    for (const c of chunks) {
      s.write(c);
      await new Promise((res) => setImmediate(res));
    }
    s.end();
  })();
  return r;
}

type Cutter = (b: Buffer) => Buffer[];
const whole: Cutter = (b) => [b];
const bytewise: Cutter = (b) => [...b].map((x) => Buffer.from([x]));
const randomCuts =
  (seed: number): Cutter =>
  (b) => {
    const rnd = xorshift32(seed);
    const out: Buffer[] = [];
    for (let i = 0; i < b.length; ) {
      const n = 1 + Math.floor(rnd() * 23);
      out.push(b.subarray(i, i + n));
      i += n;
    }
    return out;
  };
const CUTS: Array<[string, Cutter]> = [
  ['whole', whole],
  ['one byte at a time', bytewise],
  ...[1, 7, 2024, 0xc0105eed].map((seed): [string, Cutter] => [`random chunks (seed ${seed})`, randomCuts(seed)]),
];

const CONFIG = Buffer.from('{"c_info":{"name":"vm1"}}');
// what the primary sends: the header, the initial pass's end, a checkpoint's records
const STREAM = Buffer.concat([saveHeader(CONFIG), record(REC_TYPE_CHECKPOINT_END), checkpointState(CHECKPOINT_NEW), record(7, Buffer.from('abc'))]);

describe("the save stream's format", () => {
  it("writes xl's save header: magic, byte order, STREAMv2|JSON, the config as optional data", () => {
    const h = saveHeader(CONFIG);
    assert.equal(h.subarray(0, 32).toString('latin1'), 'Xen saved domain, xl format\n \0 \r');
    assert.equal(h.readUInt32LE(32), 0x01020304);
    assert.equal(h.readUInt32LE(36), 3, 'STREAMv2 | JSON');
    assert.equal(h.readUInt32LE(44), 4 + CONFIG.length);
    assert.equal(h.readUInt32LE(48), CONFIG.length);
  });

  it('pads records to 8 bytes', () => {
    assert.equal(record(4).length, 8);
    assert.equal(record(4, Buffer.from('abc')).length, 16);
    assert.equal(record(4, Buffer.alloc(8)).length, 16);
    assert.equal(checkpointState(CHECKPOINT_NEW).length, 16);
  });

  it('says what xl says of a bad magic', async () => {
    const bad = saveHeader(CONFIG);
    bad[0] = 0x41;
    assert.equal(await readSaveHeader(readerOf([bad])), 'File has wrong magic number - corrupt or for a different tool?\n');
  });

  it('says what xl says of a wrong byte order', async () => {
    const bad = saveHeader(CONFIG);
    bad.writeUInt32LE(0x04030201, 32);
    assert.equal(await readSaveHeader(readerOf([bad])), 'File has wrong byte order\n');
  });

  it('ends a short stream with StreamEnd naming what was being read', async () => {
    await assert.rejects(readSaveHeader(readerOf([STREAM.subarray(0, 20)])), (e: unknown) => e instanceof StreamEnd && e.code === 'STREAM_END' && e.message === 'header: the stream ended');
  });

  for (const [name, cut] of CUTS) {
    it(`reads the header and every record back, fed ${name}`, async () => {
      const r = readerOf(cut(STREAM));
      const h = await readSaveHeader(r);
      assert.ok(typeof h !== 'string', h as string);
      assert.deepEqual([h.mandatoryFlags, h.optionalFlags, h.optionalDataLen, h.config.toString()], [3, 0, 4 + CONFIG.length, CONFIG.toString()]);
      assert.deepEqual(await readRecord(r), { type: REC_TYPE_CHECKPOINT_END, body: Buffer.alloc(0) });
      const st = await readRecord(r);
      assert.deepEqual([st.type, st.body.readUInt32LE(0)], [REC_TYPE_CHECKPOINT_STATE, CHECKPOINT_NEW]);
      assert.deepEqual(await readRecord(r), { type: 7, body: Buffer.from('abc') });
      await assert.rejects(readRecord(r), /record header: the stream ended/);
    });
  }

  it('whenEnded() resolves at the end of the stream, with bytes still to read', async () => {
    const r = readerOf([checkpointState(CHECKPOINT_SVM_READY)]);
    await r.whenEnded();
    assert.equal((await readRecord(r)).body.readUInt32LE(0), CHECKPOINT_SVM_READY);
  });
});
