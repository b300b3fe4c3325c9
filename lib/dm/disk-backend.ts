/**
 * The part of libxl__device_disk_setdefault and libxl__device_disk_set_backend (libxl_disk.c,
 * Xen 4.17) that a new domain's device model depends on: defbool defaults, the CD-ROM backend
 * rule and the backend choice (PHY, QDISK, TAP, STANDALONE), which decides whether QEMU is told
 * the image format or just "raw".
 */
import { statSync } from 'node:fs';
import { deviceDiskCopy, type DeviceDisk, type DiskBackend } from '../disk/types.js';
import type { DomainType } from '../config/domain-config.js';

/** A libxl call failing with the message libxl logs. */
export class LibxlError extends Error {
  constructor(
    message: string,
    readonly code: 'ERROR_INVAL' | 'ERROR_FAIL' = 'ERROR_INVAL',
  ) {
    super(message);
    this.name = 'LibxlError';
  }
}

export type StatResult = { kind: 'block' | 'file' | 'other' } | { error: string };
export type StatFn = (path: string) => StatResult;

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
};

/** stat(2) as libxl uses it. */
export const realStat: StatFn = (path) => {
  try {
    const st = statSync(path);
    return { kind: st.isBlockDevice() ? 'block' : st.isFile() ? 'file' : 'other' };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    return { error: ERRNO_TEXT[code] ?? code };
  }
};

// disk_try_backend (4.17): the backend if it can serve the disk, else null.
function diskTryBackend(disk: DeviceDisk, backend: DiskBackend, stat: StatResult | null): DiskBackend | null {
  const virtio = disk.specification === 'virtio';
  if (virtio !== (backend === 'standalone')) return null;
  const localOk = disk.backend_domid !== 0 || (stat !== null && 'kind' in stat && stat.kind !== 'other');
  switch (backend) {
    case 'phy':
      if (disk.format !== 'raw' || disk.colo_enable) return null;
      return disk.backend_domid !== 0 || disk.script !== null || localOk ? 'phy' : null;
    case 'tap':
      return null; // blktap is not available in 4.17
    case 'qdisk':
      return disk.script !== null ? null : 'qdisk';
    case 'standalone':
      if (disk.format !== 'raw' || disk.script !== null || disk.colo_enable) return null;
      return localOk ? 'standalone' : null;
    default:
      return null;
  }
}

// libxl__device_disk_set_backend
export function deviceDiskSetBackend(disk: DeviceDisk, stat: StatFn = realStat): DiskBackend {
  const vdev = disk.vdev ?? '';
  let st: StatResult | null = null;
  if (disk.format === 'empty') {
    if (!disk.is_cdrom) throw new LibxlError(`Disk vdev=${vdev} is empty but not cdrom`);
    if (disk.pdev_path !== null && disk.pdev_path !== '') {
      throw new LibxlError(`Disk vdev=${vdev} is empty but an image has been provided: ${disk.pdev_path}`);
    }
  } else if (
    (disk.backend === 'unknown' || disk.backend === 'phy' || disk.backend === 'standalone') &&
    disk.backend_domid === 0 &&
    disk.script === null
  ) {
    st = stat(disk.pdev_path ?? '');
    if ('error' in st) throw new LibxlError(`Disk vdev=${vdev} failed to stat: ${disk.pdev_path}: ${st.error}`);
  }
  const order: DiskBackend[] = disk.backend !== 'unknown' ? [disk.backend] : ['phy', 'qdisk', 'tap', 'standalone'];
  for (const b of order) {
    const ok = diskTryBackend(disk, b, st);
    if (ok) return ok;
  }
  throw new LibxlError(`no suitable backend for disk ${vdev}`);
}

// libxl__device_disk_setdefault (hotplug=false, local backends only)
export function deviceDiskSetdefault(disk: DeviceDisk, domainType: DomainType, stat: StatFn = realStat): DeviceDisk {
  const d = deviceDiskCopy(disk);
  d.discard_enable ??= d.readwrite !== 0;
  d.colo_enable ??= false;
  d.colo_restore_enable ??= false;
  d.trusted ??= true;
  if (d.backend_domname !== null) {
    throw new LibxlError(`backend domain ${d.backend_domname}: driver domains are not supported by colo-xl`);
  }
  if (d.specification === 'unknown') d.specification = 'xen';
  if (d.specification === 'xen' && d.transport !== 'unknown') {
    throw new LibxlError('Transport is only supported for specification virtio');
  }
  if (d.specification === 'virtio') {
    if (d.transport !== 'unknown' && d.transport !== 'mmio') throw new LibxlError('Unsupported transport for specification virtio');
    d.transport = 'mmio';
  }
  if (d.is_cdrom && domainType === 'hvm') {
    if (d.backend !== 'unknown' && d.backend !== 'qdisk') {
      throw new LibxlError('Backend for CD devices on HVM guests must be Qdisk', 'ERROR_FAIL');
    }
    d.backend = 'qdisk';
  }
  d.backend = deviceDiskSetBackend(d, stat);
  return d;
}
