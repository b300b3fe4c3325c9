import assert from 'node:assert/strict';
import fc from 'fast-check';
import { devidToVdev, deviceDiskDevNumber } from '../../lib/libxl/devnum.js';
import { libxlDevidToVdev, libxlDevNumbers } from '../support/libxl-device-oracle.js';

/** Names around every form libxl knows, and the edges of each. */
function vdevCorpus(): string[] {
  const names = new Set<string>([
    'xvd', 'hd', 'sd', '', ' ', 'd0', 'd0p', 'dp0', 'd-1p0', 'd 1p 2', 'd0x10p0x1', 'd010p07', 'd1048575p255', 'd1048576p0', 'd0p256',
    'xvda0', 'xvda00', 'xvda+1', 'xvda 1', 'xvda-1', 'xvda256', 'xvda255', 'xvdA', 'xvdaB', 'hda64', 'hda63', 'hde', 'sdp15', 'sdq', 'sda16',
    '0', '00', '0x0', '0x10', '077', '2147483647', '2147483648', ' 5', '+5', '-0', '-5', '1e3', '4294967296', '99999999999999999999999',
  ]);
  for (const p of ['xvd', 'hd', 'sd']) {
    for (const l of ['a', 'b', 'c', 'd', 'e', 'p', 'q', 'z', 'aa', 'az', 'ba', 'zz', 'aaa', 'zzz', 'aaaa', 'fxshrxw', 'fxshrxx']) {
      for (const part of ['', '1', '9', '15', '16', '63', '64', '255', '256', '01']) names.add(`${p}${l}${part}`);
    }
  }
  fc.sample(fc.stringMatching(/^(xvd|hd|sd|d|x)?[a-z0-9 +\-]{0,6}$/), { numRuns: 8000, seed: 17 }).forEach((s) => names.add(s));
  return [...names];
}

describe('vdev to devid (libxl__device_disk_dev_number) against libxl 4.17', function () {
  this.timeout(60_000);
  it('matches libxl on every name of the corpus', () => {
    const corpus = vdevCorpus();
    const want = libxlDevNumbers(corpus);
    const bad = want.filter((w) => {
      const got = deviceDiskDevNumber(w.vdev);
      const split = got.disk === -1 && got.devid >= 0 && got.partition === -1 ? -1 : got.devid;
      return got.devid !== w.devid || split !== w.devidSplit;
    });
    assert.ok(corpus.length > 3000);
    assert.deepEqual(bad.slice(0, 10).map((w) => ({ ...w, ours: deviceDiskDevNumber(w.vdev) })), []);
  });

  const table: Record<string, number> = {
    xvda: 51712, xvdb: 51728, xvda1: 51713, xvdp: 51952, xvdq: 268439552, xvdaa: 268442112, xvdtq37: 268572709,
    d0p0: 51712, d0p16: 268435472, hda: 768, hdb: 832, hdc: 5632, hdd: 5696, sda: 2048, sdb3: 2067,
    hde: -1, sdq: -1, xvda0: -1, hda64: -1, xvd: -16,
  };
  for (const [vdev, devid] of Object.entries(table)) {
    it(`gives the spec table value for ${vdev}: ${devid}`, () => assert.equal(deviceDiskDevNumber(vdev).devid, devid));
  }
});

describe('devid to vdev (libxl__devid_to_vdev) against libxl 4.17', () => {
  it('matches libxl on normal and extended ids', () => {
    const ids = [0, 1, 15, 16, 255, 256, 768, 832, 5632, 2048, 2067, 51712, 51713, 51952, 268435456, 268439552, 268442112, 268572709,
      ...fc.sample(fc.integer({ min: 0, max: 0x1fffffff }), { numRuns: 2000, seed: 3 })];
    const want = libxlDevidToVdev(ids);
    const bad = want.filter((w) => devidToVdev(w.devid) !== w.vdev);
    assert.deepEqual(bad.slice(0, 10), []);
  });
});
