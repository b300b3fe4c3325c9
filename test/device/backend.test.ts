import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceDiskSetBackend } from '../../lib/libxl/disk-backend.js';
import { parseDiskSpec } from '../../lib/xlu/disk/parse.js';
import { libxlHost } from '../../lib/libxl/ctx.js';
import { deviceDiskDefboolsSetdefault } from '../../lib/libxl/disk.js';
import { LibxlError } from '../../lib/libxl/errors.js';
import { libxlSetBackend } from '../support/libxl-device-oracle.js';
import { captureLibxlLines } from '../support/fake-logger.js';

/** Our answer in the oracle's terms: rc, chosen backend, and the messages libxl logs. */
function ours(spec: string): { rc: number; backend: string; log: string } {
  const { logger, lines } = captureLibxlLines('warn');
  const ctx = libxlHost({ logger });
  const disk = parseDiskSpec(spec);
  // what libxl__device_disk_setdefault fills in before choosing
  deviceDiskDefboolsSetdefault(disk);
  const before = disk.backend;
  let rc = 0;
  try {
    disk.backend = deviceDiskSetBackend(ctx, disk);
  } catch (e) {
    if (!(e instanceof LibxlError)) throw e;
    rc = e.rc;
    disk.backend = before;
  }
  return { rc, backend: disk.backend, log: lines.map((l) => l.replace(/^libxl: error: [^ ]+: /, '')).join('') };
}

describe('backend choice (libxl__device_disk_set_backend) against libxl 4.17', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'colo-xl-backend-'));
    writeFileSync(join(dir, 'file.img'), 'x');
    mkdirSync(join(dir, 'dir'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('chooses the same backend, or fails with the same words, for every combination', () => {
    const targets = [join(dir, 'file.img'), join(dir, 'dir'), '/dev/null', join(dir, 'missing'), ''];
    const formats = ['', 'raw', 'qcow', 'qcow2', 'vhd', 'qed', 'empty'];
    const extras = ['', 'colo', 'script=block-x', 'backendtype=phy', 'backendtype=qdisk', 'backendtype=tap', 'backendtype=standalone',
      'specification=virtio', 'backend=1', 'devtype=cdrom', 'colo,backendtype=phy', 'specification=virtio,backendtype=standalone',
      'script=block-x,backendtype=qdisk', 'devtype=cdrom,backendtype=phy'];
    const specs: string[] = [];
    for (const t of targets) for (const f of formats) for (const x of extras) specs.push(`vdev=xvda,format=${f},${x ? `${x},` : ''}target=${t}`);
    specs.push('vdev=hdc,devtype=cdrom', 'vdev=hdc,devtype=cdrom,backendtype=phy', 'vdev=hdc,devtype=cdrom,format=qcow2');
    const want = libxlSetBackend(specs);
    const compared = want.filter((w) => w.parse !== false);
    assert.ok(compared.length > 400, `only ${compared.length} specs reached libxl`);
    const bad = compared.filter((w) => JSON.stringify(ours(w.spec)) !== JSON.stringify({ rc: w.rc, backend: w.backend, log: w.log }));
    assert.deepEqual(bad.slice(0, 5).map((w) => ({ spec: w.spec, libxl: { rc: w.rc, backend: w.backend, log: w.log }, ours: ours(w.spec) })), []);
  });
});
