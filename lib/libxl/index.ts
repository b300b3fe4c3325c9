/**
 * libxl's types and their JSON, the disk device layer on xenstore, domains, the qemu-xen device model, and domain create.
 * @module
 */
export * from './types/disk.js';
export type { SdlInfo, VncInfo } from './types/display.js';
export { diskToJson, diskJsonFields, type JsonField } from './json-disk.js';
export * from './types/domain-config.js';
export * from './types/devices.js';
export { domainConfigToJson, domainConfigGenJson, deviceDiskGenJson } from './json.js';
export { buildDiskArgs, scsiControllerArgs, coloTopIds, diskColoMode, qemuDiskFormatString, LIBXL_TOP_ID, type ColoMode, type DiskArgsOptions, type DiskArgsResult } from './dm/disk-args.js';
export { qemuOptValue, qemuPath, qemuId, QemuOptionError } from './dm/qemu-opts.js';
export { buildDeviceModelArgsNew, DEFAULT_QEMU_XEN, type DeviceModelArgs, type DeviceModelOptions } from './dm/device-model.js';
export type { RandomBytes } from './dm/nic-args.js';
export { domainCreateNew, domainCreateRestore, type CheckpointedStream, type CreatedDomain, type CreateOptions, type DomainRestoreParams } from './create.js';
export { devidToVdev, deviceDiskDevNumber, type DiskDevNumber } from './devnum.js';
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
export { libxlCtx, libxlHost, type HotplugOutput, type LibxlCtx, type LibxlCtxOptions, type LibxlHost, type StatFn } from './ctx.js';
export { deviceHotplug, HOTPLUG_TIMEOUT_MS, type DeviceAction, type HotplugOptions } from './hotplug.js';
export * from './errors.js';
export { formatLibxlLogLine, libxlLineLogger, libxlLog, type LibxlLog } from './log.js';
export { domainMake, type DomainMakeInfo } from './domain-make.js';
export { domainQualifierToDomid, domainType } from './domain.js';
export { XenbusState, waitForState, type LibxlDevice } from './device.js';
export {
  DEVICE_TIMEOUT_MS,
  deviceGenericRemove,
  qemuBackend,
  waitDeviceConnection,
  type DeviceWaitOptions,
  type RemoveForce,
} from './device-connection.js';
export { YajlGen, YajlGenError, yajlEncodeString } from '../json/yajl.js';
