/**
 * The reader's limits at the unit level: the line splitter holds at most one line's worth of
 * bytes and never more than the limit, and costs linear time; the nesting scan agrees with what
 * JSON means by depth (strings and escapes included).
 */
import assert from 'node:assert/strict';
import { QMPMessageTooLongError, QMPNestingTooDeepError } from '../../lib/qmp/errors.js';
import { LineSplitter } from '../../lib/qmp/framing.js';
import { nestsDeeperThan, parseMessage } from '../../lib/qmp/message.js';

const CHUNK = 64 * 1024;

/** Feeds `prefix`, `fill` bytes of "x", then `suffix`, in socket-sized chunks. */
function feed(s: LineSplitter, prefix: string, fill: number, suffix: string, watch?: () => void): string[] {
  const out = s.push(prefix);
  const chunk = Buffer.alloc(CHUNK, 'x');
  for (let left = fill; left > 0; left -= CHUNK) {
    out.push(...s.push(left >= CHUNK ? chunk : chunk.subarray(0, left)));
    watch?.();
  }
  out.push(...s.push(suffix));
  return out;
}

describe('QMP line splitter limits', () => {
  it('stops buffering at the limit: 50 MB without a newline never holds more than 1 MiB', () => {
    const s = new LineSplitter(1 << 20);
    let peak = 0;
    const lines = feed(s, '{"return": "', 50_000_000, '"}\n', () => (peak = Math.max(peak, s.pendingBytes)));
    assert.deepEqual(lines, []);
    assert.ok(peak <= 1 << 20, `peak ${peak}`);
    assert.ok(s.error instanceof QMPMessageTooLongError);
    assert.equal(s.error.limit, 1 << 20);
    assert.ok(s.error.receivedBytes > 1 << 20 && s.error.receivedBytes <= (1 << 20) + CHUNK);
    assert.ok(s.error.received.startsWith('{"return": "xxx') && s.error.received.length <= 1025);
    assert.equal(s.pendingBytes, 0);
    assert.deepEqual(s.push('{"a":1}\n'), [], 'input after the failure is ignored');
  });

  it('returns the lines finished before the one that overflows, in the same chunk', () => {
    const s = new LineSplitter(16);
    assert.deepEqual(s.push('{"a":1}\r\n{"b":2}\n{"too":"long....."}\n{"c":3}\n'), ['{"a":1}', '{"b":2}']);
    assert.ok(s.error instanceof QMPMessageTooLongError);
    assert.equal(s.error.received, '{"too":"long....."}');
  });

  it('a line of exactly the limit passes (its newline is not counted, a CR before it is)', () => {
    const s = new LineSplitter(10);
    assert.deepEqual(s.push('0123456789\n'), ['0123456789']);
    assert.deepEqual(s.push('012345678\r\n'), ['012345678']);
    assert.equal(s.error, null);
    s.push('0123456789\r\n');
    assert.ok((s.error as unknown) instanceof QMPMessageTooLongError);
  });

  it('keeps split UTF-8 and split CRLF intact across chunks', () => {
    const s = new LineSplitter();
    const b = Buffer.from('{"d":"é€"}\r\n');
    const lines: string[] = [];
    for (let i = 0; i < b.length; i++) lines.push(...s.push(b.subarray(i, i + 1)));
    assert.deepEqual(lines, ['{"d":"é€"}']);
  });

  it('costs linear time: 40 MB takes nowhere near 100 times 4 MB', () => {
    const time = (mb: number): number => {
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const s = new LineSplitter(64 << 20);
        const t0 = performance.now();
        const lines = feed(s, '{"return": "', mb * 1_000_000, '"}\n');
        best = Math.min(best, performance.now() - t0);
        assert.equal(lines.length, 1);
      }
      return best;
    };
    const small = Math.max(time(4), 1);
    const big = time(40);
    // a splitter that re-scans its buffer on every chunk is quadratic: ×100 here; linear is ×10
    assert.ok(big / small < 40, `4 MB ${small.toFixed(1)} ms, 40 MB ${big.toFixed(1)} ms`);
  });
});

describe('QMP nesting limit', () => {
  it('counts arrays and objects outside strings only', () => {
    assert.equal(nestsDeeperThan('{"a":[{"b":[]}]}', 4), false);
    assert.equal(nestsDeeperThan('{"a":[{"b":[[]]}]}', 4), true);
    assert.equal(nestsDeeperThan(`{"s":"${'[{'.repeat(100)}"}`, 1), false);
    assert.equal(nestsDeeperThan('{"s":"\\"[[[[\\\\"}', 1), false, 'escaped quote, then an escaped backslash before the closing one');
    assert.equal(nestsDeeperThan('{"s":"\\\\"}[[[', 2), true, 'the string ends at the quote after an escaped backslash');
  });

  it('agrees with JSON.parse on where strings end, over random strings', () => {
    let seed = 12345;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    const alphabet = ['[', ']', '{', '}', '"', '\\', 'a', '\u00e9'];
    for (let i = 0; i < 2000; i++) {
      const str = Array.from({ length: rnd(20) }, () => alphabet[rnd(alphabet.length)]).join('');
      const depth = 1 + rnd(6);
      const text = '['.repeat(depth) + JSON.stringify(str) + ']'.repeat(depth);
      assert.equal(nestsDeeperThan(text, depth), false, text);
      assert.equal(nestsDeeperThan(text, depth - 1), true, text);
    }
  });

  it('parseMessage refuses depth over its limit with the line attached, and takes depth at it', () => {
    const line = `{"return": ${'['.repeat(1023)}${']'.repeat(1023)}}`;
    assert.ok(Array.isArray(parseMessage(line).return));
    const deeper = `{"return": ${'['.repeat(1024)}${']'.repeat(1024)}}`;
    assert.throws(() => parseMessage(deeper), (e: unknown) => e instanceof QMPNestingTooDeepError && e.received.startsWith('{"return": [[['));
  });
});
