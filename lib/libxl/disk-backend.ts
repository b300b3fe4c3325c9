/**
 * Which backend serves a disk (libxl_device.c, Xen 4.17): PHY, QDISK, TAP and STANDALONE are
 * tried in that order and the first that accepts the disk wins.
 */
import type { Stats } from 'node:fs';
import { strerror } from '../util/errno.js';
import type { LibxlHost } from './ctx.js';
import { ERROR_INVAL } from './errors.js';
import type { DeviceDisk, DiskBackend } from './types/disk.js';

const WHERE = 'libxl_device.c:libxl__device_disk_set_backend';

// libxl__try_phy_backend (libxl_linux.c): a block device or a regular file
function tryPhyBackend(st: Stats | undefined): boolean {
  return st !== undefined && (st.isBlockDevice() || st.isFile());
}

// disk_try_backend: the backend if it can serve the disk, else undefined (libxl logs why at
// debug level only)
function diskTryBackend(ctx: LibxlHost, disk: DeviceDisk, st: Stats | undefined, backend: DiskBackend): DiskBackend | undefined {
  const why = (reason: string): undefined => {
    ctx.log.log('debug', 'libxl_device.c:disk_try_backend', `Disk vdev=${disk.vdev} backend ${backend} ${reason}`);
    return undefined;
  };
  // virtio disks have their own standalone backend, and only they use it
  if ((disk.specification === 'virtio') !== (backend === 'standalone')) {
    return why(`not compatible with specification ${disk.specification}`);
  }
  const toolstackDomain = disk.backend_domid === ctx.toolstackDomid;
  switch (backend) {
    case 'phy':
      if (disk.format !== 'raw') return why(`unsuitable due to format ${disk.format}`);
      if (disk.colo_enable) return why('unsuitable for COLO');
      if (!toolstackDomain) return backend;
      if (disk.script !== null) return backend;
      return tryPhyBackend(st) ? backend : why('unsuitable as phys path not a block device');
    case 'tap':
      return why('unsuitable because blktap not available');
    case 'qdisk':
      return disk.script !== null ? why('unsuitable because script is set') : backend;
    case 'standalone':
      if (disk.format !== 'raw') return why(`unsuitable due to format ${disk.format}`);
      if (disk.script !== null) return why('unsuitable because script is set');
      if (disk.colo_enable) return why('unsuitable for COLO');
      if (!toolstackDomain) return backend;
      return tryPhyBackend(st) ? backend : why('unsuitable as phys path not a block device');
    default:
      return undefined;
  }
}

// libxl__device_disk_set_backend
export function deviceDiskSetBackend(ctx: LibxlHost, disk: DeviceDisk): DiskBackend {
  let st: Stats | undefined;
  if (disk.format === 'empty') {
    if (!disk.is_cdrom) throw ctx.log.fail(ERROR_INVAL, WHERE, `Disk vdev=${disk.vdev} is empty but not cdrom`);
    if (disk.pdev_path !== null && disk.pdev_path !== '') {
      throw ctx.log.fail(ERROR_INVAL, WHERE, `Disk vdev=${disk.vdev} is empty but an image has been provided: ${disk.pdev_path}`);
    }
  } else if (
    (disk.backend === 'unknown' || disk.backend === 'phy' || disk.backend === 'standalone') &&
    disk.backend_domid === ctx.toolstackDomid &&
    disk.script === null
  ) {
    try {
      st = ctx.stat(disk.pdev_path ?? '');
    } catch (e) {
      throw ctx.log.fail(ERROR_INVAL, WHERE, `Disk vdev=${disk.vdev} failed to stat: ${disk.pdev_path}: ${strerror((e as NodeJS.ErrnoException).code) ?? (e as Error).message}`);
    }
  }
  const candidates: DiskBackend[] = disk.backend !== 'unknown' ? [disk.backend] : ['phy', 'qdisk', 'tap', 'standalone'];
  for (const b of candidates) {
    const ok = diskTryBackend(ctx, disk, st, b);
    if (ok) return ok;
  }
  throw ctx.log.fail(ERROR_INVAL, WHERE, `no suitable backend for disk ${disk.vdev}`);
}
