import assert from 'node:assert/strict';
import { parseDiskSpec } from '../../lib/xlu/disk/parse.js';
import type { DeviceDisk } from '../../lib/libxl/types/disk.js';
import { LibxlError } from '../../lib/libxl/errors.js';
import { deviceDiskSetdefault } from '../../lib/libxl/disk.js';
import { libxlHost, type StatFn } from '../../lib/libxl/ctx.js';
import { deviceDiskCopy } from '../../lib/libxl/types/disk.js';
import { deviceDiskDevNumber } from '../../lib/libxl/devnum.js';
import { buildDiskArgs, coloTopIds, scsiControllerArgs } from '../../lib/libxl/dm/disk-args.js';
import { QemuOptionError, qemuId, qemuOptValue } from '../../lib/libxl/dm/qemu-opts.js';
import { enoent, fakeStats } from '../support/fake-stat.js';

const files: StatFn = (p) => {
  if (p.startsWith('/missing')) throw enoent(p);
  return fakeStats(p.startsWith('/dev/') ? 'block' : 'file');
};

function disk(spec: string, restore = false): DeviceDisk {
  const d = deviceDiskCopy(parseDiskSpec(spec));
  deviceDiskSetdefault(libxlHost({ stat: files }), 0, d, false, 'hvm');
  return { ...d, colo_restore_enable: restore };
}

const COLO = 'colo,colo-host=10.0.0.2,colo-port=9000,colo-export=e1,active-disk=/a.qcow2,hidden-disk=/h.qcow2';

function args(disks: DeviceDisk[], hdtype: 'ide' | 'ahci' = 'ide'): string[] {
  return buildDiskArgs(disks, { hdtype, domid: 7 }).args;
}

describe('libxl__device_disk_dev_number, as the device model asks for it (with pdisk)', () => {
  const cases: [string, number][] = [
    ['xvda', 51712], ['xvdb', 51728], ['xvda1', 51713], ['xvdp', 51952], ['xvdq', 268439552], ['xvdaa', 268442112],
    ['xvdtq37', 268572709], ['d0p0', 51712], ['d0p16', 268435472], ['hda', 768], ['hdb', 832], ['hdc', 5632],
    ['hdd', 5696], ['sda', 2048], ['sdb3', 2067], ['xvd', -16],
    // refused, and a bare number says nothing about the disk index
    ['hde', -1], ['sdq', -1], ['xvda0', -1], ['hda64', -1], ['d0', -1], ['51712', -1], ['foo', -1],
  ];
  for (const [vdev, devid] of cases) {
    it(`${vdev} is ${devid}`, () => assert.equal(deviceDiskDevNumber(vdev, true).devid, devid));
  }
  it('gives the disk index and partition', () => {
    assert.deepEqual(deviceDiskDevNumber('sdc', true), { devid: 2080, disk: 2, partition: 0 });
  });
});

describe('disk setdefault and backend choice (libxl_disk.c)', () => {
  it('raw files and block devices get PHY, image formats and COLO get QDISK, cdroms QDISK', () => {
    assert.equal(disk('/x.img,raw,xvda,w').backend, 'phy');
    assert.equal(disk('/dev/vg/x,raw,xvda,w').backend, 'phy');
    assert.equal(disk('/x.qcow2,qcow2,xvda,w').backend, 'qdisk');
    assert.equal(disk(`vdev=hda,format=raw,${COLO},target=/p`).backend, 'qdisk');
    assert.equal(disk(',,hdc:cdrom,r').backend, 'qdisk');
    const d = disk('/x.img,raw,xvda,r');
    assert.deepEqual([d.discard_enable, d.colo_enable, d.colo_restore_enable, d.trusted, d.specification], [false, false, false, true, 'xen']);
  });

  it('fails like libxl: a missing file, phy with COLO, an empty non-cdrom', () => {
    assert.throws(() => disk('/missing/x.img,raw,xvda,w'), { message: 'Disk vdev=xvda failed to stat: /missing/x.img: No such file or directory' });
    assert.throws(() => disk(`vdev=hda,format=raw,backendtype=phy,${COLO},target=/p`), { message: 'no suitable backend for disk hda' });
    assert.throws(() => disk('vdev=hdc,format=empty,target=/x'), LibxlError);
  });
});

describe('per-disk device-model arguments (libxl 4.17 strings)', () => {
  it('IDE, COLO none / primary / secondary', () => {
    assert.deepEqual(args([disk('vdev=hda,format=qcow2,target=/p.qcow2')]), [
      '-drive', 'file=/p.qcow2,if=ide,index=0,media=disk,format=qcow2,cache=writeback',
    ]);
    assert.deepEqual(args([disk(`vdev=hdb,format=qcow2,${COLO},target=/p.qcow2`)]), [
      '-drive', 'if=ide,index=1,media=disk,cache=writeback,driver=quorum,id=e1,children.0.file.filename=/p.qcow2,children.0.driver=qcow2,read-pattern=fifo,vote-threshold=1',
    ]);
    assert.deepEqual(args([disk(`vdev=hda,format=qcow2,${COLO},target=/p.qcow2`, true)]), [
      '-drive', 'if=none,driver=qcow2,file=/p.qcow2,id=e1',
      '-drive', 'if=ide,index=0,id=top-colo,media=disk,cache=writeback,driver=replication,mode=secondary,top-id=top-colo,file.driver=qcow2,file.file.filename=/a.qcow2,file.backing.driver=qcow2,file.backing.file.filename=/h.qcow2,file.backing.backing=e1',
    ]);
  });

  it('SCSI, COLO none / primary / secondary, with readonly= from the access mode', () => {
    const plain = disk('vdev=sdb,format=raw,access=ro,target=/s.img');
    assert.deepEqual(scsiControllerArgs([plain]), ['-device', 'lsi53c895a']);
    assert.deepEqual(args([plain]), [
      '-drive', 'file=/s.img,id=scsi0-hd1,format=raw,if=none,readonly=on,cache=writeback', '-device', 'scsi-hd,drive=scsi0-hd1,scsi-id=1',
    ]);
    assert.deepEqual(args([disk(`vdev=sda,format=qcow2,${COLO},target=/p`)]), [
      '-drive', 'if=none,readonly=off,cache=writeback,id=e1,driver=quorum,children.0.file.filename=/p,children.0.driver=qcow2,read-pattern=fifo,vote-threshold=1',
      '-device', 'scsi-hd,drive=e1,scsi-id=0',
    ]);
    assert.deepEqual(args([disk(`vdev=sda,format=qcow2,${COLO},target=/p`, true)]), [
      '-drive', 'if=none,driver=qcow2,file=/p,id=e1,readonly=off',
      '-drive', 'if=none,readonly=off,cache=writeback,id=top-colo,driver=replication,mode=secondary,top-id=top-colo,file.driver=qcow2,file.file.filename=/a.qcow2,file.backing.driver=qcow2,file.backing.file.filename=/h.qcow2,file.backing.backing=e1',
      '-device', 'scsi-hd,drive=top-colo,scsi-id=0',
    ]);
    assert.deepEqual(scsiControllerArgs([disk('vdev=sdc,devtype=cdrom,format=raw,target=/c.iso')]), []);
  });

  it('AHCI (COLO ignored), CD-ROMs empty and with media, raw for PHY disks', () => {
    assert.deepEqual(args([disk(`vdev=hda,format=qcow2,${COLO},target=/p`, true)], 'ahci'), [
      '-device', 'ahci,id=ahci0',
      '-drive', 'file=/p,if=none,id=ahcidisk-0,format=qcow2,cache=writeback', '-device', 'ide-hd,bus=ahci0.0,unit=0,drive=ahcidisk-0',
    ]);
    assert.deepEqual(args([disk(',,hdc:cdrom,r'), disk('vdev=hdd,devtype=cdrom,format=qcow2,target=/c.qcow2')]), [
      '-drive', 'if=none,readonly=on,id=ide-5632', '-device', 'ide-cd,id=ide-5632,drive=ide-5632,bus=ide.1,unit=0',
      '-drive', 'if=none,readonly=on,id=ide-5696,file=/c.qcow2,format=qcow2', '-device', 'ide-cd,id=ide-5696,drive=ide-5696,bus=ide.1,unit=1',
    ]);
    assert.deepEqual(args([disk('/dev/vg/x,raw,xvdb,w')]), ['-drive', 'file=/dev/vg/x,if=ide,index=1,media=disk,format=raw,cache=writeback']);
    assert.deepEqual(args([disk('/x.vhd,vhd,hda,w')]), ['-drive', 'file=/x.vhd,if=ide,index=0,media=disk,format=vpc,cache=writeback']);
  });

  it('refuses read-only IDE and AHCI disks, warns about disks it cannot emulate', () => {
    assert.throws(() => args([disk('/x.qcow2,qcow2,hda,r')]), { message: "qemu-xen doesn't support read-only IDE disk drivers" });
    assert.throws(() => args([disk('/x.qcow2,qcow2,hda,r')], 'ahci'), { message: "qemu-xen doesn't support read-only AHCI disk drivers" });
    const r = buildDiskArgs([disk('/x.img,raw,xvde,w'), disk('/x.img,raw,51712,w'), disk('vdev=xvdf,devtype=cdrom,format=raw,target=/c')], { hdtype: 'ide', domid: 7 });
    assert.deepEqual(r.args, []);
    assert.deepEqual(r.warnings.map((w) => w.split('\n')[0]), [
      'Domain 7:Only 4 emulated IDE disks are supported.',
      'Domain 7:unable to determine disk number for 51712',
      'Domain 7:Emulated CDROM can be only one of the first 4 disks.',
    ]);
  });
});

describe('better than libxl', () => {
  it('escapes commas in paths and refuses ids QEMU cannot take', () => {
    assert.equal(qemuOptValue('/img,file.driver=nbd'), '/img,,file.driver=nbd');
    assert.deepEqual(args([disk('vdev=hda,format=qcow2,target=/a,b.qcow2')]), [
      '-drive', 'file=/a,,b.qcow2,if=ide,index=0,media=disk,format=qcow2,cache=writeback',
    ]);
    // The disk-spec syntax cannot put a comma into active-disk=, but a libxl caller (JSON) can.
    const sec = args([{ ...disk(`vdev=sda,format=qcow2,${COLO},target=/p`, true), active_disk: '/x,y' }]);
    assert.ok(sec[3]!.includes('file.file.filename=/x,,y,'));
    assert.throws(() => args([disk('vdev=hda,format=qcow2,colo,colo-export=e-1;x,active-disk=/a,hidden-disk=/h,target=/p')]), QemuOptionError);
    assert.throws(() => args([disk('vdev=hda,format=qcow2,target=json:{"driver":"nbd"}')]), QemuOptionError);
    assert.throws(() => qemuId('1abc', 'id'), QemuOptionError);
  });

  it('one COLO secondary keeps top-colo; several get one id each', () => {
    const one = [disk(`vdev=hda,format=qcow2,${COLO},target=/p`, true), disk('/x.qcow2,qcow2,hdb,w')];
    assert.deepEqual([...coloTopIds(one)], [[0, 'top-colo']]);
    const two = [disk(`vdev=hda,format=qcow2,${COLO},target=/p`, true), disk(`vdev=sdb,format=qcow2,${COLO.replace('e1', 'e2')},target=/q`, true)];
    assert.deepEqual([...coloTopIds(two)], [[0, 'top-colo'], [1, 'top-colo-2064']]);
    const a = args(two);
    assert.ok(a.includes('scsi-hd,drive=top-colo-2064,scsi-id=1'));
    assert.equal(a.filter((x) => x.includes('id=top-colo,')).length, 1);
  });
});
