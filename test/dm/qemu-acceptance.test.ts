import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../support/fake-dir.js';
import { parseConfigData } from '../../lib/xl/parse.js';
import { domainCreateNew, domainCreateRestore } from '../../lib/libxl/create.js';
import { commonArgs, createImage, pickAccel, qemuImg, requireQemu, startQemu, stopAllQemus } from '../support/qemu.js';
import { blockGraph, type BlockGraph } from './support/block-graph.js';

const accel = pickAccel();

/**
 * The device model's disk arguments for a config, exactly as colo-xl builds them: the early SCSI
 * controller and everything after `-m N` (AHCI controller and disks). Only the Xen machine
 * arguments are left out; the test QEMU gets `-machine pc` instead.
 */
function diskArgs(cfg: string, restore: 'none' | 'colo' | null = null): string[] {
  const d = parseConfigData('t.cfg', `name="t"\ntype="hvm"\nuuid="12345678-1234-1234-1234-123456789abc"\n${cfg}`, {
    err: (t) => assert.fail(`unexpected xl message: ${t}`),
  });
  const c = restore === null ? domainCreateNew(d, { domid: 1 }) : domainCreateRestore(d, { checkpointed_stream: restore }, { domid: 1 });
  const a = c.dm.args;
  const m = a.indexOf('-m');
  const early = a.includes('lsi53c895a') ? ['-device', 'lsi53c895a'] : [];
  return [...early, ...a.slice(m + 2)];
}

describe(`device-model disk arguments accepted by real QEMU 7.2 (accel ${accel})`, function () {
  this.timeout(60_000);
  before(requireQemu);
  // registered first, so the QEMUs stop before their directory goes
  after(stopAllQemus);
  const scratch = scratchDir('colo-xl-dm-');
  let n = 0;
  const img = (name: string, fmt = 'qcow2'): string => {
    const p = join(scratch.path, name);
    qemuImg('create', '-q', '-f', fmt, p, '16M');
    return p;
  };

  async function boot(args: string[]): Promise<BlockGraph> {
    const q = await startQemu(`q${n++}`, [...commonArgs(accel), ...args], scratch.path);
    try {
      return await blockGraph(q.qmp);
    } finally {
      await q.stop();
    }
  }

  it('IDE disks in every format (hd* and xvd* are emulated IDE)', async () => {
    const cases = [
      { vdev: 'hda', fmt: 'qcow2', qemu: 'qcow2' },
      { vdev: 'hdb', fmt: 'qed', qemu: 'qed' },
      { vdev: 'xvdc', fmt: 'vhd', qemu: 'vpc' },
      { vdev: 'xvdd', fmt: 'qcow', qemu: 'qcow' },
    ];
    const specs = cases.map((c) => `'vdev=${c.vdev},format=${c.fmt},target=${img(`${c.vdev}.img`, c.qemu)}'`);
    const raw = join(scratch.path, 'raw.img');
    writeFileSync(raw, Buffer.alloc(1 << 20));
    const args = diskArgs(`disk=[${specs.join(',')}]`);
    assert.ok(args.every((a) => !a.includes('top-colo')));
    const g = await boot(args);
    cases.forEach((c, i) => {
      const root = g.device(`ide${i >> 1}-hd${i & 1}`).root!;
      assert.equal(g.node(root).drv, c.qemu);
      assert.equal(g.pathOf(root), join(scratch.path, `${c.vdev}.img`));
      assert.equal(g.node(root).ro, false);
    });
    // A raw file gets the PHY backend: QEMU is told raw whatever the file holds.
    const g2 = await boot(diskArgs(`disk=['${raw},raw,xvda,w']`));
    assert.equal(g2.node(g2.device('ide0-hd0').root!).drv, 'raw');
  });

  it('SCSI disks behind the early lsi53c895a, read-write and read-only', async () => {
    const args = diskArgs(`disk=['vdev=sda,format=qcow2,target=${img('sa.qcow2')}','vdev=sdb,format=qcow2,access=ro,target=${img('sb.qcow2')}']`);
    assert.deepEqual(args.slice(0, 2), ['-device', 'lsi53c895a']);
    const g = await boot(args);
    assert.equal(g.pathOf(g.device('scsi0-hd0').root!), join(scratch.path, 'sa.qcow2'));
    assert.equal(g.node(g.device('scsi0-hd0').root!).ro, false);
    assert.equal(g.node(g.device('scsi0-hd1').root!).ro, true);
  });

  it('AHCI disks (hdtype=ahci), where COLO settings are ignored', async () => {
    const colo = 'colo,colo-host=127.0.0.1,colo-port=9000,colo-export=e1,active-disk=/nonexistent/a,hidden-disk=/nonexistent/h';
    const args = diskArgs(`hdtype="ahci"\ndisk=['vdev=hda,format=qcow2,${colo},target=${img('ah.qcow2')}']`, 'colo');
    assert.deepEqual(args.slice(0, 2), ['-device', 'ahci,id=ahci0']);
    const g = await boot(args);
    assert.equal(g.pathOf(g.device('ahcidisk-0').root!), join(scratch.path, 'ah.qcow2'));
  });

  it('CD-ROMs: empty, and with media (read-only)', async () => {
    const iso = join(scratch.path, 'boot.iso');
    writeFileSync(iso, Buffer.alloc(1 << 20));
    const g = await boot(diskArgs(`disk=[',,hdc:cdrom,r','vdev=hdd,devtype=cdrom,format=raw,access=ro,target=${iso}']`));
    assert.equal(g.device('ide-5632').root, undefined);
    const media = g.device('ide-5696').root!;
    assert.equal(g.pathOf(media), iso);
    assert.equal(g.node(media).ro, true);
  });

  for (const bus of ['ide', 'scsi'] as const) {
    const vdev = bus === 'ide' ? 'hda' : 'sda';

    it(`COLO primary on ${bus}: a quorum whose only child is the disk`, async () => {
      const colo = `colo,colo-host=127.0.0.1,colo-port=9000,colo-export=e1,active-disk=${scratch.path}/pa.qcow2,hidden-disk=${scratch.path}/ph.qcow2`;
      const g = await boot(diskArgs(`disk=['vdev=${vdev},format=qcow2,${colo},target=${img(`prim-${bus}.qcow2`)}']`));
      const root = g.device('e1').root!;
      assert.equal(g.node(root).drv, 'quorum');
      const child = g.follow(root, 'children.0');
      assert.equal(child.drv, 'qcow2');
      assert.equal(g.pathOf(child.name), join(scratch.path, `prim-${bus}.qcow2`));
    });

    it(`COLO secondary on ${bus}: replication → active → hidden → the exported disk`, async () => {
      const target = img(`sec-${bus}.qcow2`);
      const active = img(`act-${bus}.qcow2`);
      const hidden = img(`hid-${bus}.qcow2`);
      const colo = `colo,colo-host=127.0.0.1,colo-port=9000,colo-export=e1,active-disk=${active},hidden-disk=${hidden}`;
      const args = diskArgs(`disk=['vdev=${vdev},format=qcow2,${colo},target=${target}']`, 'colo');
      assert.ok(args.some((a) => a.includes('top-id=top-colo,')), 'a single COLO disk keeps libxl\'s id');
      const g = await boot(args);
      const top = g.device('top-colo').root!;
      assert.equal(g.node(top).drv, 'replication');
      const act = g.follow(top, 'file');
      assert.equal(g.pathOf(act.name), active);
      const hid = g.follow(top, 'file', 'backing');
      assert.equal(g.pathOf(hid.name), hidden);
      const exported = g.follow(top, 'file', 'backing', 'backing');
      assert.equal(exported.name, g.device('e1').root, 'the hidden disk is backed by the export drive');
      assert.equal(g.pathOf(exported.name), target);
    });
  }

  it('a two-disk COLO secondary starts: each disk has its own top id', async () => {
    const disks = ['hda', 'hdb'].map((v, i) => {
      const colo = `colo,colo-host=127.0.0.1,colo-port=${9000 + i},colo-export=e${i + 1},active-disk=${img(`a${i}.qcow2`)},hidden-disk=${img(`h${i}.qcow2`)}`;
      return `'vdev=${v},format=qcow2,${colo},target=${img(`t${i}.qcow2`)}'`;
    });
    const args = diskArgs(`disk=[${disks.join(',')}]`, 'colo');
    const g = await boot(args);
    for (const [id, exp, i] of [['top-colo', 'e1', 0], ['top-colo-832', 'e2', 1]] as const) {
      const top = g.device(id).root!;
      assert.equal(g.node(top).drv, 'replication');
      assert.equal(g.follow(top, 'file', 'backing', 'backing').name, g.device(exp).root);
      assert.equal(g.pathOf(g.device(exp).root!), join(scratch.path, `t${i}.qcow2`));
    }
  });

  it('the whole command line starts, with only the Xen-specific arguments swapped', async () => {
    const target = img('whole.qcow2');
    const d = parseConfigData('t.cfg', `name="whole"\ntype="hvm"\nmemory=128\nvcpus=2\nmaxvcpus=2\nserial="pty"\nstdvga=1\nboot="dc"\ndisk=['vdev=hda,format=qcow2,target=${target}',',,hdc:cdrom,r']\n`, {
      err: (t) => assert.fail(t),
    });
    const a = domainCreateNew(d, { domid: 9, runDir: scratch.path }).dm.args.slice(1);
    // Xen-only: the domid and the xenfv machine (xen accelerator).
    a.splice(a.indexOf('-xen-domid'), 2);
    a.splice(a.indexOf('-machine'), 2, '-machine', 'pc', '-accel', accel, '-S');
    assert.ok(a.includes('-vnc') && a.includes('VGA,vgamem_mb=16') && a.includes('order=dc'));
    const q = await startQemu(`q${n++}`, a, scratch.path);
    try {
      const status = await q.qmp.execute<{ status: string }>('query-status');
      assert.equal(status.status, 'prelaunch');
      const g = await blockGraph(q.qmp);
      assert.equal(g.pathOf(g.device('ide0-hd0').root!), target);
      const vnc = await q.qmp.execute<{ enabled: boolean; host: string }>('query-vnc');
      assert.deepEqual([vnc.enabled, vnc.host], [true, '127.0.0.1']);
    } finally {
      await q.stop();
    }
  });

  it('a comma in a path stays part of the path (libxl\'s unescaped string would add an option)', async () => {
    const plain = createImage(join(scratch.path, 'vm.qcow2'), '16M');
    const hostile = createImage(`${plain},snapshot=on`, '16M');
    const args = diskArgs(`disk=['vdev=hda,format=qcow2,target=${hostile}']`);
    assert.ok(args.includes(`file=${plain},,snapshot=on,if=ide,index=0,media=disk,format=qcow2,cache=writeback`));
    const ours = await boot(args);
    const root = ours.device('ide0-hd0').root!;
    assert.equal(ours.pathOf(root), hostile);
    assert.equal(ours.node(root).children.backing, undefined);
    // libxl 4.17 pastes the path in as it is: QEMU then opens vm.qcow2 under a throw-away
    // snapshot overlay, so guest writes never reach the disk.
    const libxl = await boot(['-drive', `file=${hostile},if=ide,index=0,media=disk,format=qcow2,cache=writeback`]);
    const lroot = libxl.device('ide0-hd0').root!;
    assert.notEqual(libxl.pathOf(lroot), hostile);
    assert.equal(libxl.pathOf(libxl.follow(lroot, 'backing').name), plain);
  });
});
