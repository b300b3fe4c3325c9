/**
 * A JavaScript string can hold a NUL; the C strings xlu_disk_parse takes cannot. parseDiskSpec
 * ends each string (and the report source) at its first NUL, which is what libxlutil 4.17 sees
 * through the koffi binding: checked here against it, for one string and for several.
 */
import assert from 'node:assert/strict';
import { DiskSpecError, parseDiskSpec } from '../../lib/xlu/disk/parse.js';
import { generateDiskCorpus } from '../support/disk-corpus.js';
import { describeMismatch, libxluOutcome, ourOutcome, sameOutcome } from '../support/libxlu-oracle.js';
import { xorshift32 } from '../support/rng.js';
import {
  libxluParseDisk,
  libxluParseDisks,
  LIBXLU_MAX_SPEC_BYTES,
  requireLibxlutil,
} from '../support/native/libxlutil/index.js';

/** Both parsers on the same specs (and source); fails showing both answers. */
function agree(specs: readonly string[], source?: string): void {
  const ours = ourOutcome(specs, source);
  const real = libxluOutcome(libxluParseDisk(specs, source));
  assert.ok(sameOutcome(ours, real), describeMismatch(specs, 'nul', ours, real));
}

describe('disk spec: a NUL ends the string, as for the C parser', function () {
  this.timeout(60_000);

  before(requireLibxlutil);

  // one `it` per case, so one mismatch does not hide the next
  const ONE_STRING = [
    'vdev=xvda,target=/a\0,target=/b', 'vdev=x\0,target=/y', '\0vdev=xvda,target=/x', '\0', '/x\0,raw,xvda',
    '/x,raw,xvda\0,r,w,w', 'vdev=xvda,foo=\0bar,target=/x', 'vdev=xvda,target=/x,colo-port=9\0' + '000', 'phy:/dï\0sk,xvda',
    'vdev=xvda,target=/é\0é',
    // before the NUL a trailing '=' ends the scan quietly; after it the newline would jam flex
    'vdev=a,vdev=b,=\0\n', 'vdev=xvda,target=/x\0=\n',
  ];
  for (const spec of ONE_STRING) {
    it(`one string, what follows the NUL is never seen: ${JSON.stringify(spec)}`, () => agree([spec]));
  }

  const SEVERAL = [
    ['vdev=xvda', 'target=/a\0junk', 'access=r\0,access=w'], ['/x', '\0', 'xvda'], ['/x', '\0raw', 'xvda'],
    ['vdev=a\0', 'vdev=b'], ['vdev=xvda,target=/x', 'bogus\0=1'], ['vdev=xvda', 'target=/x', 'a=b\0c=d'], ['\0', '\0'],
  ];
  for (const specs of SEVERAL) {
    it(`several strings, each ends at its own NUL: ${JSON.stringify(specs)}`, () => agree(specs));
  }

  it('the report source ends at its NUL too (xlu_cfg_init copies a C string)', function () {
    agree(['/x,bogus'], 'guest.cfg\0 and more');
    agree(['vdev=x\0y'], '\0');
  });

  it('the disk and the error carry no NUL and nothing after it', function () {
    const disk = parseDiskSpec('vdev=xvda,target=/x\0,vdev=other');
    assert.equal(disk.vdev, 'xvda');
    assert.equal(disk.pdev_path, '/x');
    assert.deepEqual(parseDiskSpec(['vdev=xvda\0z', 'target=/a\0/b']).pdev_path, '/a');
    assert.throws(() => parseDiskSpec(['vdev=a\0', 'vdev=b\0c'], { source: 'src\0x' }), (e: unknown) => {
      assert.ok(e instanceof DiskSpecError);
      assert.equal(e.source, 'src');
      assert.deepEqual(e.errors, [{ message: 'vdev respecified', near: 'b', spec: 'vdev=b' }]);
      assert.equal(e.report, "src: config parsing error in disk specification: vdev respecified: near `b' in `vdev=b'\n");
      return true;
    });
  });

  it('agrees with libxlutil on 1,500 corpus disks with a NUL and junk put into their strings', function () {
    const rand = xorshift32(0x6e756c);
    const next = (): number => Math.floor(rand() * 0x100000000);
    const junk = ['', ',target=/evil', '=\n', 'vdev=x', '\0\0', 'é,', ',,,,,'];
    const disks = generateDiskCorpus({ size: 1500, seed: 0x4e554c })
      .filter((e) => e.specs.every((s) => s.length < LIBXLU_MAX_SPEC_BYTES / 3 - 20))
      .map((e) => e.specs.map((s, i) => {
        // one string in three keeps its text whole; the first always gets a NUL
        if (i > 0 && next() % 3 === 0) return s;
        const at = next() % (s.length + 1);
        return `${s.slice(0, at)}\0${junk[next() % junk.length]!}${s.slice(at)}`;
      }));
    assert.ok(disks.length >= 1400);
    const real = libxluParseDisks(disks);
    const bad = disks.flatMap((specs, i) => {
      const ours = ourOutcome(specs);
      const theirs = libxluOutcome(real[i]!);
      return sameOutcome(ours, theirs) ? [] : [describeMismatch(specs, 'nul', ours, theirs)];
    });
    assert.equal(bad.length, 0, `${bad.length} of ${disks.length} differ:\n${bad.slice(0, 10).join('')}`);
  });
});
