/**
 * Long specifications: the parse stays linear, the report stays bounded, and the error is always
 * a DiskSpecError. libxlu repeats the whole spec in every message, so n unknown keys give a report
 * of n² bytes: `'a=b,'.repeat(11600)` would be 538 million characters.
 *
 * libxlutil can be asked only up to LIBXLU_MAX_SPEC_BYTES (its flex buffer), so the oracle checks
 * the largest specs it takes; beyond that the bound is checked on its own terms.
 */
import assert from 'node:assert/strict';
import { DISK_SPEC_REPORT_LIMIT, DiskScannerFatal, DiskSpecError, formatDiskSpecMessage, parseDiskSpec, tokenizeDiskSpec } from '../../lib/xlu/disk/parse.js';
import { libxluOutcome, ourOutcome, sameOutcome } from '../support/libxlu-oracle.js';
import { libxluParseDisk, requireLibxlutil } from '../support/native/libxlutil/index.js';
import { assertBoundedReport, reportLinesOf, truncationNote } from './report-bound.js';

const PREFIX = 'command line: config parsing error in disk specification: ';

/** The DiskSpecError a spec must give, and how long the parse took (ms). */
function refuse(spec: string | string[]): { e: DiskSpecError; ms: number } {
  const t0 = performance.now();
  try {
    parseDiskSpec(spec);
  } catch (e) {
    const ms = performance.now() - t0;
    assert.ok(e instanceof DiskSpecError, `expected a DiskSpecError, got ${String(e)}`);
    return { e, ms };
  }
  assert.fail('accepted');
}

/** Milliseconds of the fastest of `runs` parses (the least disturbed by a busy machine). */
function fastest(spec: string, runs = 3): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    try {
      parseDiskSpec(spec);
    } catch (e) {
      if (!(e instanceof DiskSpecError)) throw e;
    }
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/**
 * A linear parse takes ~8× as long for 8× the input; a quadratic one 64×. The bound leaves room
 * for a busy machine (GC, other processes), and each time is the best of a few runs.
 */
function assertLinear(label: string, piece: string, reps: number, head = '', tail = ''): void {
  const small = head + piece.repeat(reps) + tail;
  const big = head + piece.repeat(8 * reps) + tail;
  fastest(small, 1); // warm-up: JIT
  const [a, b] = [fastest(small), fastest(big, 2)];
  process.stdout.write(`      ${label}: ${small.length} B in ${a.toFixed(0)} ms, ${big.length} B in ${b.toFixed(0)} ms\n`);
  assert.ok(b < 25 * a + 400, `${label}: ${b.toFixed(0)} ms for ${big.length} B against ${a.toFixed(0)} ms for ${small.length} B`);
}

describe('disk spec: long specifications', function () {
  this.timeout(120_000);

  before(requireLibxlutil);

  describe('the report bound', function () {
    it("'a=b,'.repeat(11600) (46 KB, 11,600 messages) is a DiskSpecError with a bounded report", function () {
      const spec = 'a=b,'.repeat(11600);
      const { e, ms } = refuse(spec);
      process.stdout.write(`      46,400 B, 11,600 messages: ${ms.toFixed(0)} ms, report ${e.reportBytes.length} B\n`);
      assert.equal(e.errors.length, 11600);
      assert.ok(e.errors.every((m) => m.message === 'unknown parameter' && m.near === 'a=b,' && m.spec === spec));
      assert.ok(e.reportBytes.length <= DISK_SPEC_REPORT_LIMIT + 200);
      const lines = e.report.split(/(?<=\n)/);
      const line = formatDiskSpecMessage('command line', e.errors[0]!);
      const kept = Math.floor(DISK_SPEC_REPORT_LIMIT / line.length);
      assert.equal(lines.length, kept + 1);
      assert.ok(lines.slice(0, kept).every((l) => l === line));
      assert.equal(lines[kept], truncationNote('command line', 11600 - kept));
      assert.equal(e.message, e.report.trimEnd());
    });

    it('gives every line uncut, one at a time, through reportLines()', function () {
      const { e } = refuse(['vdev=xvda', 'a=b,'.repeat(11600)]);
      let n = 0;
      for (const l of e.reportLines()) {
        assert.equal(l, `${PREFIX}unknown parameter: near \`a=b,' in \`${'a=b,'.repeat(11600)}'\n`);
        n++;
      }
      assert.equal(n, 11600);
    });

    it('against libxlutil: its report up to the bound, then its first whole lines and a note', function () {
      // 2,500 messages of 10 KB: a 25 MB report (kept well under the 16 KB libxlu takes, whose
      // 85 MB reports cost half a gigabyte of memory to compare)
      for (const spec of ['a=b,'.repeat(2500), `vdev=x,${'vdev=y,'.repeat(1500)}`, 'a=b'.repeat(3000)]) {
        const real = libxluParseDisk(spec);
        assert.equal(real.rc, 22);
        const { e } = refuse(spec);
        assert.ok(assertBoundedReport(e.reportBytes, real.reportBytes) > 0);
        assert.ok(sameOutcome(ourOutcome([spec]), libxluOutcome(real)), 'reportLines() is not libxlu\'s text');
      }
    });

    it('against libxlutil: a report just under the bound is whole, one just over is cut', function () {
      // the line for n repeats is 4n + 95 bytes long, the report n times that
      const size = (n: number): number => n * (4 * n + 95);
      let n = 1;
      while (size(n + 1) <= DISK_SPEC_REPORT_LIMIT) n++;
      for (const [reps, cut] of [[n, false], [n + 1, true]] as const) {
        const spec = 'a=b,'.repeat(reps);
        const real = libxluParseDisk(spec);
        assert.equal(real.reportBytes.length, size(reps));
        assert.equal(assertBoundedReport(refuse(spec).e.reportBytes, real.reportBytes) > 0, cut);
      }
    });

    it('a single line over the bound is shown with its quotes cut, and says so', function () {
      const spec = `vdev=a,vdev=b,target=/${'é'.repeat(DISK_SPEC_REPORT_LIMIT)}`;
      const { e } = refuse(spec);
      assert.deepEqual(e.errors, [{ message: 'vdev respecified', near: 'b', spec }]);
      const lines = reportLinesOf(e.reportBytes).map((b) => b.toString('utf8'));
      assert.equal(lines.length, 2);
      // cut on a character boundary: no replacement character appears
      const shown = `vdev=a,vdev=b,target=/${'é'.repeat((1024 - 22) >> 1)}...`;
      assert.equal(lines[0], `${PREFIX}vdev respecified: near \`b' in \`${shown}'\n`);
      assert.equal(lines[1], 'command line: disk specification report truncated at 1048576 bytes: ' +
        'the first message has its quotes cut to 1024 bytes (marked ...), 0 more messages not shown\n');
      assert.equal([...e.reportLines()].join(''), formatDiskSpecMessage('command line', e.errors[0]!));
    });

    it('a long source is cut in the note and in a cut first line', function () {
      const source = 's'.repeat(DISK_SPEC_REPORT_LIMIT + 1);
      assert.throws(() => parseDiskSpec('/x', { source }), (e: unknown) => {
        assert.ok(e instanceof DiskSpecError);
        assert.equal(e.source, source);
        assert.ok(e.reportBytes.length < 3000);
        assert.match(e.report, /^s{1024}\.\.\.: config parsing error in disk specification: no vdev specified in `\/x'\ns{1024}\.\.\.: disk specification report truncated/);
        return true;
      });
    });

    it('what was reported before a scanner jam is bounded too', function () {
      assert.throws(() => parseDiskSpec(`${'a=b,'.repeat(11600)}=\n`), (e: unknown) => {
        assert.ok(e instanceof DiskScannerFatal, String(e));
        assert.ok(e.report.length < DISK_SPEC_REPORT_LIMIT + 300);
        assert.match(e.report, /more messages not shown\nflex scanner jammed\n$/);
        return true;
      });
    });
  });

  describe('linear time (8× the input, ~8× the time)', function () {
    it('many messages: unknown keys, respecified values', function () {
      assertLinear('a=b,', 'a=b,', 6000);
      assertLinear('vdev=a,', 'vdev=a,', 5000);
      assertLinear('a=é,', 'a=é,', 5000);
    });

    it('stacked deprecated prefixes and blanks (each used to rescan the rest of the run)', function () {
      assertLinear('raw:', 'raw:', 10000, '', '/x,xvda');
      assertLinear('"raw: "', 'raw: ', 10000, '', '/x,xvda');
      assertLinear('", raw:"', ', raw:', 5000);
    });

    it('long values and blank runs', function () {
      assertLinear('target=', 'y', 100_000, 'vdev=x,target=/');
      assertLinear('" \\n"', ' \n', 10000, 'vdev=x,');
      assertLinear('"x, "', 'x, ', 5000);
    });
  });

  describe('stacked prefixes', function () {
    it('are one token per prefix, the blanks between them dropped', function () {
      assert.deepEqual(tokenizeDiskSpec('tap: qcow2:\t/x,xvda').map((t) => [t.type, t.text, t.offset]), [
        ['prefix', 'tap:', 0], ['prefix', 'qcow2:', 5], ['positional', '/x,', 12], ['positional', 'xvda', 15],
      ]);
    });

    it('agree with libxlutil, newlines and long stacks included', function () {
      for (const spec of [
        'tap: qcow2:\t/x,xvda', 'tap:qcow2: raw:/x,xvda', 'raw: raw:\n/x,xvda', 'raw:raw:\n,xvda', 'nbd: iscsi:h,xvda',
        'raw:  ', 'raw: =', 'tap: bogus:/x,xvda', 'tap: c:\\x,xvda', 'raw: tap', `${'raw:'.repeat(3000)}/x,xvda`,
        `${'tap: '.repeat(2000)}/x,xvda,w`, `${'raw:'.repeat(3000)}\n,xvda`,
      ]) {
        const [ours, real] = [ourOutcome([spec]), libxluOutcome(libxluParseDisk(spec))];
        assert.ok(sameOutcome(ours, real), `${JSON.stringify(spec.slice(0, 60))}: ours ${JSON.stringify(ours).slice(0, 300)} libxlu ${JSON.stringify(real).slice(0, 300)}`);
      }
    });
  });
});
