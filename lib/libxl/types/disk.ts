/**
 * libxl_device_disk as Xen 4.17's IDL (libxl_types.idl) defines it, field for field and in IDL
 * order, because the JSON form prints fields in exactly this order.
 *
 * C NULL strings are `null` (an empty string is a different, meaningful value), a libxl_defbool
 * is `boolean | null` with `null` meaning "default", and enums use libxl's lower-case names.
 */

export const DISK_BACKENDS = ['unknown', 'phy', 'tap', 'qdisk', 'standalone'] as const;
export type DiskBackend = (typeof DISK_BACKENDS)[number];

export const DISK_FORMATS = ['unknown', 'qcow', 'qcow2', 'vhd', 'raw', 'empty', 'qed'] as const;
export type DiskFormat = (typeof DISK_FORMATS)[number];

export const DISK_SPECIFICATIONS = ['unknown', 'xen', 'virtio'] as const;
export type DiskSpecification = (typeof DISK_SPECIFICATIONS)[number];

export const DISK_TRANSPORTS = ['unknown', 'mmio'] as const;
export type DiskTransport = (typeof DISK_TRANSPORTS)[number];

/** libxl_defbool: unset ("default"), or an explicit true/false. */
export type Defbool = boolean | null;

export interface DeviceDisk {
  backend_domid: number;
  backend_domname: string | null;
  pdev_path: string | null;
  vdev: string | null;
  backend: DiskBackend;
  format: DiskFormat;
  script: string | null;
  removable: number;
  readwrite: number;
  is_cdrom: number;
  direct_io_safe: boolean;
  discard_enable: Defbool;
  specification: DiskSpecification;
  transport: DiskTransport;
  irq: number;
  base: bigint;
  colo_enable: Defbool;
  colo_restore_enable: Defbool;
  colo_host: string | null;
  colo_port: number;
  colo_export: string | null;
  active_disk: string | null;
  hidden_disk: string | null;
  trusted: Defbool;
}

// libxl_device_disk_init: every field zeroed, defbools at "default".
export function deviceDiskInit(): DeviceDisk {
  return {
    backend_domid: 0,
    backend_domname: null,
    pdev_path: null,
    vdev: null,
    backend: 'unknown',
    format: 'unknown',
    script: null,
    removable: 0,
    readwrite: 0,
    is_cdrom: 0,
    direct_io_safe: false,
    discard_enable: null,
    specification: 'unknown',
    transport: 'unknown',
    irq: 0,
    base: 0n,
    colo_enable: null,
    colo_restore_enable: null,
    colo_host: null,
    colo_port: 0,
    colo_export: null,
    active_disk: null,
    hidden_disk: null,
    trusted: null,
  };
}

// libxl_device_disk_copy: a deep copy (every member is a value type here).
export function deviceDiskCopy(disk: DeviceDisk): DeviceDisk {
  return { ...disk };
}
