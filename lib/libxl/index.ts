/**
 * libxl's types and their JSON, the disk device layer on xenstore, domains, the qemu-xen device model, and domain create.
 * @module
 */
export * from './types/disk.js';
export { diskToJson, diskJsonFields } from './json-disk.js';
export { domainConfigInit, type DomainConfig, type BuildInfo, type CreateInfo, type HvmBuildInfo, type ActionOnShutdown } from './types/domain-config.js';
export { domainConfigToJson, domainConfigGenJson, deviceDiskGenJson } from './json.js';
export { type StatFn } from './dm/disk-backend.js';
export { buildDiskArgs, scsiControllerArgs, coloTopIds, dmDiskNumber, diskColoMode, qemuDiskFormatString, LIBXL_TOP_ID, type ColoMode, type DiskArgsOptions } from './dm/disk-args.js';
export { qemuOptValue, qemuPath, qemuId, QemuOptionError } from './dm/qemu-opts.js';
export { buildDeviceModelArgsNew, DEFAULT_QEMU_XEN, type DeviceModelArgs, type DeviceModelOptions } from './dm/device-model.js';
export { domainCreateNew, domainCreateRestore, type CheckpointedStream, type CreatedDomain } from './create.js';
export { devidToVdev, diskDevNumber, type DiskDevNumber } from './devnum.js';
export { deviceDiskSetBackend } from './disk-backend.js';
export {
  deviceDiskAdd,
  deviceDiskGetinfo,
  deviceDiskList,
  deviceDiskRemove,
  deviceDiskSetdefault,
  diskFromXenstore,
  resolveDiskBackend,
  vdevToDeviceDisk,
  type DiskAddOptions,
  type DiskInfo,
} from './disk.js';
export { libxlCtx, libxlHost, type LibxlCtx, type LibxlHost } from './ctx.js';
export * from './errors.js';
export { domainMake, type DomainMakeInfo } from './domain-make.js';
export { domainQualifierToDomid, domainType, type DomainType } from './domain.js';
export { XenbusState, type RemoveForce, type LibxlDevice } from './device.js';
export { YajlGen, yajlEncodeString } from '../json/yajl.js';
