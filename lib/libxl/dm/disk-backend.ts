/**
 * Disk defaults for callers that build a device model without a xenstore (`create -N`,
 * `devmodel-args`, the COLO demo): libxl__device_disk_setdefault from lib/libxl/disk.ts on a
 * copy of the disk, with local backends only.
 */
import type { Stats } from 'node:fs';
import { deviceDiskSetdefault as setdefault } from '../disk.js';
import { deviceDiskCopy, type DeviceDisk } from '../types/disk.js';
import { libxlHost } from '../ctx.js';
import { ERROR_INVAL, LibxlError, LibxlLogger } from '../errors.js';
import type { DomainType } from '../types/domain-config.js';

export { LibxlError };

/** stat(2) as libxl uses it: Stats, or a thrown errno error. */
export type StatFn = (path: string) => Stats;

/** The disk after libxl__device_disk_setdefault (hotplug=false), as a new object. */
export function deviceDiskSetdefault(disk: DeviceDisk, domainType: DomainType, stat?: StatFn): DeviceDisk {
  const d = deviceDiskCopy(disk);
  if (d.backend_domname !== null) {
    throw new LibxlError(ERROR_INVAL, `backend domain ${d.backend_domname}: driver domains are not supported by colo-xl`);
  }
  setdefault(libxlHost({ log: new LibxlLogger(), ...(stat ? { stat } : {}) }), 0, d, false, domainType);
  return d;
}
