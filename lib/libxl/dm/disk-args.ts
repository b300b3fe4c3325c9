/**
 * The disk part of libxl__build_device_model_args_new (libxl_dm.c, Xen 4.17) for HVM guests
 * with a local qemu-xen: the early SCSI controller, then per disk (in config order) the IDE,
 * SCSI, AHCI and CD-ROM arguments with the COLO primary (quorum) and secondary (replication)
 * variants. Disks must have been through libxl__device_disk_setdefault (lib/libxl/disk.ts).
 *
 * Two departures from libxl, both invisible for ordinary input: values are escaped for QEMU's
 * option syntax (a comma in a path can no longer add options; ids that QEMU cannot take are
 * refused), and a secondary with several COLO disks gives each its own replication top id
 * instead of libxl's constant "top-colo", which QEMU refuses twice.
 */
import type { DeviceDisk, DiskFormat } from '../types/disk.js';
import { ERROR_INVAL, LibxlError } from '../errors.js';
import { qemuId, qemuPath } from './qemu-opts.js';
import { deviceDiskDevNumber } from '../devnum.js';

export type ColoMode = 'none' | 'primary' | 'secondary';

export interface DiskArgsOptions {
  hdtype: 'ide' | 'ahci';
  /** The guest's domid, for warnings. */
  domid: number;
}

export interface DiskArgsResult {
  args: string[];
  /** libxl's WARN messages for disks that stay PV-only. */
  warnings: string[];
}

/** The replication top id libxl 4.17 gives every COLO secondary disk. */
export const LIBXL_TOP_ID = 'top-colo';

// libxl__qemu_disk_format_string
export function qemuDiskFormatString(format: DiskFormat): string | null {
  const map: Partial<Record<DiskFormat, string>> = { qcow: 'qcow', qcow2: 'qcow2', vhd: 'vpc', raw: 'raw', qed: 'qed' };
  return map[format] ?? null;
}

export function diskColoMode(disk: DeviceDisk): ColoMode {
  if (!disk.colo_enable) return 'none';
  return disk.colo_restore_enable ? 'secondary' : 'primary';
}

// libxl__device_disk_find_local_path(qdisk_direct=true) for a local backend: the script's
// physical-device-path lives in xenstore, which a device-model builder does not read.
function findLocalPath(disk: DeviceDisk): string | null {
  if (disk.backend_domname !== null) return null;
  if (disk.format === 'raw' && disk.script === null) return disk.pdev_path;
  if (disk.backend === 'qdisk') return disk.pdev_path;
  return null;
}

/** `-device lsi53c895a` once if any non-CD-ROM disk is sd*, emitted early to keep its PCI slot. */
export function scsiControllerArgs(disks: readonly DeviceDisk[]): string[] {
  return disks.some((d) => !d.is_cdrom && (d.vdev ?? '').startsWith('sd')) ? ['-device', 'lsi53c895a'] : [];
}

/**
 * Top id per disk index: libxl's constant when at most one disk is a COLO secondary; otherwise
 * the first keeps it and the others get "top-colo-<devid>".
 */
export function coloTopIds(disks: readonly DeviceDisk[]): Map<number, string> {
  const ids = new Map<number, string>();
  const secondaries = disks
    .map((d, i) => ({ d, i }))
    .filter(({ d }) => !d.is_cdrom && diskColoMode(d) === 'secondary');
  secondaries.forEach(({ d, i }, n) => {
    ids.set(i, n === 0 ? LIBXL_TOP_ID : `${LIBXL_TOP_ID}-${deviceDiskDevNumber(d.vdev ?? '', true).devid}`);
  });
  return ids;
}

function str(v: string | null): string {
  // printf("%s", NULL) in glibc
  return v ?? '(null)';
}

// qemu_disk_scsi_drive_string
function scsiDriveString(target: string, unit: number, format: string, disk: DeviceDisk, mode: ColoMode, topId: string) {
  const common = `if=none,readonly=${disk.readwrite ? 'off' : 'on'},cache=writeback`;
  switch (mode) {
    case 'none': {
      const id = `scsi0-hd${unit}`;
      return { id, drive: `file=${qemuPath(target, 'target')},id=${id},format=${format},${common}` };
    }
    case 'primary': {
      const id = qemuId(str(disk.colo_export), 'colo-export');
      return {
        id,
        drive: `${common},id=${id},driver=quorum,children.0.file.filename=${qemuPath(target, 'target')},children.0.driver=${format},read-pattern=fifo,vote-threshold=1`,
      };
    }
    case 'secondary':
      return {
        id: topId,
        drive:
          `${common},id=${topId},driver=replication,mode=secondary,top-id=${topId},file.driver=qcow2,` +
          `file.file.filename=${qemuPath(str(disk.active_disk), 'active-disk')},file.backing.driver=qcow2,` +
          `file.backing.file.filename=${qemuPath(str(disk.hidden_disk), 'hidden-disk')},` +
          `file.backing.backing=${qemuId(str(disk.colo_export), 'colo-export')}`,
      };
  }
}

// qemu_disk_ide_drive_string
function ideDriveString(target: string, unit: number, format: string, disk: DeviceDisk, mode: ColoMode, topId: string): string {
  switch (mode) {
    case 'none':
      return `file=${qemuPath(target, 'target')},if=ide,index=${unit},media=disk,format=${format},cache=writeback`;
    case 'primary':
      return (
        `if=ide,index=${unit},media=disk,cache=writeback,driver=quorum,id=${qemuId(str(disk.colo_export), 'colo-export')},` +
        `children.0.file.filename=${qemuPath(target, 'target')},children.0.driver=${format},read-pattern=fifo,vote-threshold=1`
      );
    case 'secondary':
      return (
        `if=ide,index=${unit},id=${topId},media=disk,cache=writeback,driver=replication,mode=secondary,top-id=${topId},` +
        `file.driver=qcow2,file.file.filename=${qemuPath(str(disk.active_disk), 'active-disk')},file.backing.driver=qcow2,` +
        `file.backing.file.filename=${qemuPath(str(disk.hidden_disk), 'hidden-disk')},` +
        `file.backing.backing=${qemuId(str(disk.colo_export), 'colo-export')}`
      );
  }
}

/**
 * The arguments after `-m` for the disks: `-device ahci,id=ahci0` for hdtype=ahci, then each
 * disk. Throws LibxlError where libxl fails the domain (read-only IDE/AHCI disks) and
 * QemuOptionError for values QEMU could not take as one path or id.
 */
// libxl__build_device_model_args_new (disk loop)
export function buildDiskArgs(disks: readonly DeviceDisk[], opts: DiskArgsOptions): DiskArgsResult {
  const args: string[] = [];
  const warnings: string[] = [];
  const warn = (m: string): void => void warnings.push(`Domain ${opts.domid}:${m}`);
  const topIds = coloTopIds(disks);
  if (opts.hdtype === 'ahci') args.push('-device', 'ahci,id=ahci0');
  disks.forEach((d, i) => {
    const vdev = str(d.vdev);
    const { devid, disk } = deviceDiskDevNumber(vdev, true);
    if (devid === -1) return warn(`unable to determine disk number for ${vdev}`);
    const format = d.backend === 'qdisk' ? qemuDiskFormatString(d.format) : 'raw';
    let target: string | null = null;
    if (d.format === 'empty') {
      if (!d.is_cdrom) return warn(`Cannot support empty disk format for ${vdev}`);
    } else {
      if (format === null) {
        return warn(
          `Unable to determine disk image format: ${vdev}\nDisk will be available via PV drivers but not as anemulated disk.`,
        );
      }
      target = findLocalPath(d);
      if (target === null) {
        return warn(
          `No way to get local access disk to image: ${vdev}\nDisk will be available via PV drivers but not as anemulated disk.`,
        );
      }
    }
    if (d.is_cdrom) {
      if (disk > 4) {
        return warn(
          `Emulated CDROM can be only one of the first 4 disks.\nDisk ${vdev} will be available via PV drivers but not as an emulated disk.`,
        );
      }
      const id = `ide-${devid}`;
      let drive = `if=none,readonly=on,id=${id}`;
      if (target !== null) drive += `,file=${qemuPath(target, 'target')},format=${format}`;
      args.push('-drive', drive, '-device', `ide-cd,id=${id},drive=${id},bus=ide.${Math.trunc(disk / 2)},unit=${disk % 2}`);
      return;
    }
    const mode = diskColoMode(d);
    const topId = topIds.get(i) ?? LIBXL_TOP_ID;
    const path = target!;
    if (vdev.startsWith('sd')) {
      if (mode === 'secondary') {
        args.push(
          '-drive',
          `if=none,driver=${format},file=${qemuPath(path, 'target')},id=${qemuId(str(d.colo_export), 'colo-export')},readonly=${d.readwrite ? 'off' : 'on'}`,
        );
      }
      const { id, drive } = scsiDriveString(path, disk, format!, d, mode, topId);
      args.push('-drive', drive, '-device', `scsi-hd,drive=${id},scsi-id=${disk}`);
      return;
    }
    if (disk < 6 && opts.hdtype === 'ahci') {
      if (!d.readwrite) throw new LibxlError(ERROR_INVAL, "qemu-xen doesn't support read-only AHCI disk drivers");
      args.push(
        '-drive',
        `file=${qemuPath(path, 'target')},if=none,id=ahcidisk-${disk},format=${format},cache=writeback`,
        '-device',
        `ide-hd,bus=ahci0.${disk},unit=0,drive=ahcidisk-${disk}`,
      );
      return;
    }
    if (disk < 4) {
      if (!d.readwrite) throw new LibxlError(ERROR_INVAL, "qemu-xen doesn't support read-only IDE disk drivers");
      if (mode === 'secondary') {
        args.push('-drive', `if=none,driver=${format},file=${qemuPath(path, 'target')},id=${qemuId(str(d.colo_export), 'colo-export')}`);
      }
      args.push('-drive', ideDriveString(path, disk, format!, d, mode, topId));
      return;
    }
    warn(`Only 4 emulated IDE disks are supported.\nDisk ${vdev} will be available via PV drivers but not as an emulated disk.`);
  });
  return { args, warnings };
}
