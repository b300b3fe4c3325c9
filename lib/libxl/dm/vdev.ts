/**
 * Kept for callers of the device-model layer: libxl__device_disk_dev_number now lives in
 * lib/libxl/devnum.ts (diskDevNumber); this is the same function under its libxl name.
 */
import { diskDevNumber, type DiskDevNumber } from '../devnum.js';

export type DevNumber = DiskDevNumber;

// libxl__device_disk_dev_number
export function deviceDiskDevNumber(vdev: string): DevNumber {
  return diskDevNumber(vdev);
}
