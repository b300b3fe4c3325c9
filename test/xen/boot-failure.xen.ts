/**
 * A boot that cannot succeed fails the run at once with the console's last lines (never a skip,
 * never the full boot timeout), and leaves no QEMU behind.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { BootError } from './errors.js';
import { imageForTests } from './report.js';
import { XenRig } from './rig.js';

/** Boots, expecting a BootError; checks QEMU is gone and removes the kept run directory. */
async function bootFails(boot: () => Promise<XenRig>): Promise<BootError> {
  let caught: unknown;
  try {
    const rig = await boot();
    await rig.stop();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof BootError, `expected a BootError, got ${String(caught)}`);
  assert.throws(() => process.kill(caught.qemuPid, 0), { code: 'ESRCH' }, `QEMU ${caught.qemuPid} still runs`);
  rmSync(caught.runDir, { recursive: true, force: true });
  return caught;
}

describe('the Xen rig: a failed boot', function () {
  it('a PV dom0 crashing at its first instruction (SMAP and SMEP left on under TCG) fails with Xen\'s crash report', async function () {
    this.timeout(60 * 60_000);
    const image = await imageForTests();
    this.timeout(10 * 60_000);
    // Later words on Xen's command line win, so these undo the rig's smap=0 smep=0.
    const e = await bootFails(() => XenRig.boot(image, { xenArgs: ['smap=1', 'smep=1'], bootTimeoutSeconds: 400 }));
    assert.match(e.reason, /Dom0 crashed|Domain 0 \(vcpu#\d+\) crashed/, e.message);
    assert.match(e.consoleTail, /crashed/, e.message);
    assert.match(e.consoleTail, /RIP:/, e.message);
  });

  it("a root image that is not there: QEMU's own message", async function () {
    this.timeout(60 * 60_000);
    const image = await imageForTests();
    this.timeout(60_000);
    const e = await bootFails(() => XenRig.boot({ ...image, rootImage: `${image.dir}/no-such-image.img` }));
    assert.match(e.reason, /QEMU exited: .*no-such-image\.img/s, e.message);
  });
});
