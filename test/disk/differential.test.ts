/**
 * Differential test: our disk-spec parser against Xen 4.17's own libxlutil (Debian
 * libxenmisc4.17, through test/support/native/libxlutil) over a generated corpus. Success or failure,
 * the JSON text and the report text must agree on every entry. DISK_CORPUS_SIZE and
 * DISK_CORPUS_SEED pick another corpus.
 */
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { setTimeout as sleep } from 'node:timers/promises';
import { runInNewContext } from 'node:vm';
import koffi from 'koffi';
import { generateDiskCorpus, DEFAULT_CORPUS_SEED, DEFAULT_CORPUS_SIZE, type CorpusEntry } from '../support/disk-corpus.js';
import { fixedCorpus } from '../support/disk-corpus-fixed.js';
import { describeMismatch, libxluOutcome, mismatchClass, ourOutcome, sameOutcome, type Outcome } from '../support/libxlu-oracle.js';
import { DiskSpecError, parseDiskSpec } from '../../lib/xlu/disk/parse.js';
import { assertBoundedReport } from './report-bound.js';
import {
  libxluParseDisk,
  libxluParseDisks,
  mayJamScanner,
  requireLibxlutil,
  type LibxluDiskResult,
} from '../support/native/libxlutil/index.js';

const SHOWN = 20;

const libc = koffi.load('libc.so.6');
const Mallinfo2 = koffi.struct('mallinfo2', {
  arena: 'size_t', ordblks: 'size_t', smblks: 'size_t', hblks: 'size_t', hblkhd: 'size_t',
  usmblks: 'size_t', fsmblks: 'size_t', uordblks: 'size_t', fordblks: 'size_t', keepcost: 'size_t',
});
const mallinfo2 = libc.func('mallinfo2', Mallinfo2, []) as () => { uordblks: number | bigint; hblkhd: number | bigint };
/** glibc's bytes in use by malloc (small and mmapped chunks): what a native leak makes grow. */
const mallocInUse = (): number => {
  const m = mallinfo2();
  return Number(m.uordblks) + Number(m.hblkhd);
};
v8.setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

function corpusSize(): number {
  const n = Number(process.env.DISK_CORPUS_SIZE ?? DEFAULT_CORPUS_SIZE);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_CORPUS_SIZE;
}

/** Compares every entry; fails listing the first SHOWN differences and a count per class. */
function assertAgreement(entries: readonly CorpusEntry[], theirs: readonly LibxluDiskResult[], source?: string): void {
  const classes = new Map<string, number>();
  let text = '';
  let bad = 0;
  entries.forEach((e, i) => {
    const ours: Outcome = ourOutcome(e.specs, source);
    const real = libxluOutcome(theirs[i]!);
    if (sameOutcome(ours, real)) return;
    bad++;
    const c = mismatchClass(ours, real);
    classes.set(c, (classes.get(c) ?? 0) + 1);
    if (bad <= SHOWN) text += describeMismatch(e.specs, e.kind, ours, real);
  });
  if (bad === 0) return;
  const summary = [...classes].map(([c, n]) => `  ${n} × ${c}`).join('\n');
  assert.fail(
    `${bad} of ${entries.length} disks differ from libxlutil 4.17 ` +
      `(${(100 * (1 - bad / entries.length)).toFixed(2)}% agreement)\n${summary}\nfirst ${Math.min(bad, SHOWN)}:\n${text}`,
  );
}

describe('disk-spec parser vs libxlutil 4.17 (differential)', function () {
  this.timeout(180_000);
  let corpus: CorpusEntry[];
  let real: LibxluDiskResult[];

  before(function () {
    requireLibxlutil();
    corpus = generateDiskCorpus({ size: corpusSize(), seed: Number(process.env.DISK_CORPUS_SEED ?? DEFAULT_CORPUS_SEED) });
    real = libxluParseDisks(corpus.map((e) => e.specs));
  });

  describe('the libxlutil binding', function () {
    it('returns libxl JSON for a COLO disk', function () {
      const r = libxluParseDisk(
        'vdev=sda,format=qcow2,colo,colo-host=10.0.0.2,colo-port=9000,colo-export=e1,active-disk=/a.qcow2,hidden-disk=/h.qcow2,target=/p.qcow2',
      );
      assert.equal(r.rc, 0);
      assert.equal(r.report, '');
      assert.equal(
        r.json,
        '{\n    "pdev_path": "/p.qcow2",\n    "vdev": "sda",\n    "format": "qcow2",\n    "readwrite": 1,\n' +
          '    "colo_enable": "True",\n    "colo_host": "10.0.0.2",\n    "colo_port": 9000,\n    "colo_export": "e1",\n' +
          '    "active_disk": "/a.qcow2",\n    "hidden_disk": "/h.qcow2"\n}\n',
      );
    });

    it('returns the report text with the given source, and EINVAL', function () {
      const r = libxluParseDisk('vdev=xvda,colo-port=abc,target=/p', '/etc/xen/g.cfg');
      assert.equal(r.rc, 22);
      assert.equal(r.json, null);
      assert.equal(
        r.report,
        "/etc/xen/g.cfg: config parsing error in disk specification: unknown value for colo_port: near `abc' in `vdev=xvda,colo-port=abc,target=/p'\n",
      );
    });

    it('fills one disk from several strings and reports against the last one scanned', function () {
      assert.equal(libxluParseDisk(['/x', 'raw', 'xvda', 'r']).json, '{\n    "pdev_path": "/x",\n    "vdev": "xvda",\n    "format": "raw"\n}\n');
      assert.equal(
        libxluParseDisk(['vdev=a', 'target=/x', 'vdev=b']).report,
        "command line: config parsing error in disk specification: vdev respecified: near `b' in `vdev=b'\n",
      );
    });

    it('survives a spec that jams the flex scanner, keeping what was reported before', function () {
      assert.equal(mayJamScanner(['a,=\nb']), true);
      assert.equal(mayJamScanner(['vdev=x,target=/y']), false);
      const [jam, after] = libxluParseDisks([['vdev=a,vdev=b,=\n'], ['vdev=\nx,target=y']]);
      assert.deepEqual(jam!.fatal, { stderr: 'flex scanner jammed\n', exitStatus: 2, signal: null });
      assert.equal(jam!.report, "command line: config parsing error in disk specification: vdev respecified: near `b' in `vdev=a,vdev=b,=\n'\n");
      assert.equal(after!.rc, 0);
      assert.match(after!.json!, /"vdev": "\\nx"/);
    });

    it('passes specs as UTF-8 and decodes reports byte-exactly', function () {
      const r = libxluParseDisk('foo=é,vdev=x');
      // the unknown-parameter rule takes one byte after `=`: half of the two-byte é
      assert.deepEqual([...r.reportBytes.subarray(r.reportBytes.indexOf('near `') + 10, r.reportBytes.indexOf('near `') + 12)], [0xc3, 0x27]);
      assert.match(r.report, /near `foo=\uFFFD' in `foo=é,vdev=x'/);
      assert.match(libxluParseDisk('vdev=x,target=/dïsk').json!, /"pdev_path": "\/dïsk"/);
    });

    it('refuses specs long enough to overrun libxlu\'s scanner state buffer, instead of corrupting the heap', function () {
      assert.throws(() => libxluParseDisk(['vdev=x', 'é'.repeat(8001)]), RangeError);
      assert.equal(libxluParseDisk(`vdev=xvda,target=/${'a'.repeat(15900)}`).rc, 0);
    });

    it('frees everything it allocates (malloc in-use bytes flat over 40,000 parses)', async function () {
      const specs = ['vdev=xvda,format=qcow2,colo,colo-host=h,colo-port=9,colo-export=e,active-disk=/a,hidden-disk=/h,target=/p'];
      const bad = ['vdev=a,vdev=b,vdev=c,foo=bar,target=/x'];
      const run = async (n: number): Promise<number> => {
        for (let i = 0; i < n; i++) libxluParseDisk(i % 2 ? specs : bad);
        // V8 frees ArrayBuffer memory on a background thread after a GC: let it finish
        fullGc();
        await sleep(50);
        fullGc();
        return mallocInUse();
      };
      await run(20000); // warm-up: allocator arenas, Buffer pool slabs, JIT
      const before = await run(1);
      const grown = (await run(40000)) - before;
      // one leaked report, JSON text or disk string per call would be >= 40000 * 75 bytes
      assert.ok(grown < 3_000_000, `malloc in-use bytes grew by ${grown}`);
    });
  });

  describe('the corpus', function () {
    it(`has at least ${DEFAULT_CORPUS_SIZE} distinct entries when not resized`, function () {
      if (corpusSize() >= DEFAULT_CORPUS_SIZE) assert.ok(corpus.length >= DEFAULT_CORPUS_SIZE);
      assert.equal(new Set(corpus.map((e) => JSON.stringify(e.specs))).size, corpus.length);
    });

    it('uses every keyword, flag and deprecated prefix, and several-string disks', function () {
      const all = corpus.flatMap((e) => e.specs).join('\n');
      const words = ['format=', 'cdrom', 'devtype=cdrom', 'devtype=disk', 'devtype=floppy', 'access=', 'backend=',
        'backendtype=', 'specification=', 'vdev=', 'script=', 'direct-io-safe', 'discard', 'no-discard', 'colo,',
        'no-colo', 'colo-host=', 'colo-port=', 'colo-export=', 'active-disk=', 'hidden-disk=', 'target=', 'trusted',
        'untrusted', 'grant_usage=', 'raw:', 'qcow:', 'qcow2:', 'vhd:', 'iscsi:', 'nbd:', 'enbd:', 'drbd:', 'tapdisk:',
        'tap:', 'tap2:', 'aio:', 'ioemu:', 'file:', 'phy:', 'tap:qcow2:', '\t', '\n', 'é'];
      for (const w of words) assert.ok(all.includes(w), `corpus lacks ${JSON.stringify(w)}`);
      assert.ok(corpus.filter((e) => e.specs.length > 1).length >= 200, 'too few several-string disks');
      assert.ok(corpus.filter((e) => e.kind === 'random').length >= 1000, 'too few random entries');
    });

    it('reaches every outcome of libxlutil: success, each error message, and the scanner jam', function () {
      const reports = real.map((r) => r.report).join('');
      for (const m of ['respecified', 'unknown value for format', 'unknown value for access', 'unknown value for type',
        'unknown value for backendtype', 'unknown value for specification', 'unknown value for colo_port',
        'unknown parameter', 'bad disk syntax', 'unknown deprecated disk prefix', 'unknown deprecated type',
        'too many positional parameters', 'no vdev specified', 'no target specified (and device not removable)']) {
        assert.ok(reports.includes(m), `no corpus entry makes libxlu say ${JSON.stringify(m)}`);
      }
      assert.ok(real.filter((r) => r.rc === 0).length >= 800, 'too few accepted disks');
      assert.ok(real.some((r) => r.fatal), 'no scanner jam in the corpus');
    });
  });

  describe('agreement', function () {
    it('agrees with libxlutil on every corpus entry: outcome, JSON text and report text', function () {
      assertAgreement(corpus, real);
    });

    it('keeps libxlu\'s report whole in DiskSpecError.report up to the bound, then cuts it at a line', function () {
      let cut = 0;
      corpus.forEach((e, i) => {
        const r = real[i]!;
        if (r.rc !== 22 || r.fatal) return;
        try {
          parseDiskSpec(e.specs);
        } catch (err) {
          assert.ok(err instanceof DiskSpecError, String(err));
          if (assertBoundedReport(err.reportBytes, r.reportBytes) > 0) cut++;
          return;
        }
        assert.fail(`${JSON.stringify(e.specs)} accepted`);
      });
      // the corpus holds one spec (2,200 repeated vdevs: a 34 MB report) that goes over
      assert.ok(cut >= 1, 'no corpus entry reaches the report bound');
    });

    it('agrees on the several-string disks with other report sources', function () {
      const multi = fixedCorpus().filter((e) => e.specs.length !== 1);
      for (const source of ['xlu-oracle', '/etc/xen/guest.cfg', 'command line']) {
        assertAgreement(multi, libxluParseDisks(multi.map((e) => e.specs), source), source);
      }
    });
  });
});
