/**
 * The parts of libxl_domain_create_new and libxl_domain_create_restore (libxl_create.c, Xen
 * 4.17) that decide what a COLO disk becomes: colo_restore_enable is forced on every disk (false
 * for a new domain, true only for a COLO checkpointed restore), the caller's config is saved with
 * it, then disk defaults and the device-model arguments follow.
 */
import type { DomainConfig } from './types/domain-config.js';
import { deviceDiskCopy, type DeviceDisk } from './types/disk.js';
import { deviceDiskSetdefault } from './disk.js';
import { libxlHost, type StatFn } from './ctx.js';
import { buildDeviceModelArgsNew, type DeviceModelArgs, type DeviceModelOptions } from './dm/device-model.js';

/** libxl_checkpointed_stream. */
export type CheckpointedStream = 'none' | 'remus' | 'colo';

export interface DomainRestoreParams {
  checkpointed_stream: CheckpointedStream;
}

export interface CreateOptions extends DeviceModelOptions {
  stat?: StatFn;
}

export interface CreatedDomain {
  /** The caller's config as libxl saves it (userdata): colo_restore_enable set, nothing else defaulted. */
  saved: DomainConfig;
  /** The disks after libxl__device_disk_setdefault. */
  disks: DeviceDisk[];
  dm: DeviceModelArgs;
}

function withColoRestore(d: DomainConfig, enable: boolean): DomainConfig {
  return { ...d, disks: d.disks.map((disk) => ({ ...deviceDiskCopy(disk), colo_restore_enable: enable })) };
}

// do_domain_create, from the saved copy to the device model's arguments
function doDomainCreate(saved: DomainConfig, opts: CreateOptions): CreatedDomain {
  // libxl__domain_config_setdefault: each disk's defaults, here on a copy (the saved config stays as given)
  const host = libxlHost(opts.stat ? { stat: opts.stat } : {});
  const disks = saved.disks.map((disk) => {
    const d = deviceDiskCopy(disk);
    deviceDiskSetdefault(host, 0, d, false, saved.c_info.type);
    return d;
  });
  return { saved, disks, dm: buildDeviceModelArgsNew(saved, disks, opts) };
}

// libxl_domain_create_new
export function domainCreateNew(d: DomainConfig, opts: CreateOptions): CreatedDomain {
  return doDomainCreate(withColoRestore(d, false), opts);
}

// libxl_domain_create_restore
export function domainCreateRestore(d: DomainConfig, params: DomainRestoreParams, opts: CreateOptions): CreatedDomain {
  return doDomainCreate(withColoRestore(d, params.checkpointed_stream === 'colo'), opts);
}
