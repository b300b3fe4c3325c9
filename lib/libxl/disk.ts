/**
 * Disks as libxl 4.17 keeps them in xenstore (libxl_disk.c): defaults, the device written in one
 * transaction, read back from libxl's own copy, listed and removed.
 */
import { deviceDiskSetBackend } from './disk-backend.js';
import { deviceDiskDevNumber } from './devnum.js';
import { diskJsonFields } from './json-disk.js';
import { deviceDiskCopy, type DeviceDisk, type DiskBackend, type DiskFormat } from './types/disk.js';
import type { LibxlCtx, LibxlHost } from './ctx.js';
import { deviceExists, deviceGenericAdd, XenbusState, type Kvs, type LibxlDevice } from './device.js';
import { deviceGenericRemove, waitDeviceConnection, type DeviceWaitOptions, type RemoveForce } from './device-connection.js';
import { domainType, resolveDomid } from './domain.js';
import type { DomainType } from './types/domain-config.js';
import { updateDomainConfiguration } from './userdata.js';
import { ERROR_DEVICE_EXISTS, ERROR_FAIL, ERROR_INVAL } from './errors.js';
import { throwIfAborted } from '../util/wait.js';

const DISK_C = 'libxl_disk.c';

export { deviceDiskGetinfo, deviceDiskList, diskFromXenstore, vdevToDeviceDisk, type DiskInfo } from './disk-readback.js';

/**
 * libxl__device_disk_setdefault, on `disk` itself. Its first step, libxl__resolve_domid of
 * backend=, needs xenstore and so is resolveDiskBackend, which a LibxlCtx caller runs first; a
 * host without xenstore (a device-model builder: `create -N`, devmodel-args, the demo) has no
 * domain to resolve a name against and refuses it.
 */
export function deviceDiskSetdefault(host: LibxlHost, domid: number, disk: DeviceDisk, hotplug: boolean, type: DomainType): void {
  const where = `${DISK_C}:libxl__device_disk_setdefault`;
  if (disk.backend_domname !== null && !('xs' in host)) {
    throw host.log.fail(ERROR_INVAL, where, `backend domain ${disk.backend_domname}: driver domains are not supported without xenstore`, domid);
  }
  deviceDiskDefboolsSetdefault(disk);

  if (disk.specification === 'unknown') disk.specification = 'xen';
  if (disk.specification === 'xen' && disk.transport !== 'unknown') {
    throw host.log.fail(ERROR_INVAL, where, 'Transport is only supported for specification virtio', domid);
  }
  if (disk.specification === 'virtio') {
    if (disk.transport !== 'unknown' && disk.transport !== 'mmio') {
      throw host.log.fail(ERROR_INVAL, where, 'Unsupported transport for specification virtio', domid);
    }
    disk.transport = 'mmio';
  }
  if (hotplug && disk.specification === 'virtio') {
    throw host.log.fail(ERROR_FAIL, where, "Hotplug isn't supported for specification virtio", domid);
  }
  // Force Qdisk for CD-ROMs of guests with a device model: QEMU emulates them.
  if (disk.is_cdrom && type === 'hvm') {
    if (disk.backend !== 'qdisk' && disk.backend !== 'unknown') {
      throw host.log.fail(ERROR_FAIL, where, 'Backend for CD devices on HVM guests must be Qdisk', domid);
    }
    disk.backend = 'qdisk';
  }
  disk.backend = deviceDiskSetBackend(host, disk);
}

/** The libxl_defbool_setdefault calls libxl__device_disk_setdefault opens with. */
export function deviceDiskDefboolsSetdefault(disk: DeviceDisk): void {
  disk.discard_enable ??= !!disk.readwrite;
  disk.colo_enable ??= false;
  disk.colo_restore_enable ??= false;
  disk.trusted ??= true;
}

// libxl__resolve_domid, as libxl__device_disk_setdefault calls it: backend= names a domain
export async function resolveDiskBackend(ctx: LibxlCtx, disk: DeviceDisk): Promise<void> {
  disk.backend_domid = await resolveDomid(ctx, disk.backend_domname, disk.backend_domid);
}

const BACKEND_KINDS: Partial<Record<DiskBackend, string>> = { phy: 'vbd', tap: 'vbd', qdisk: 'qdisk', standalone: 'virtio_disk' };

// libxl__device_from_disk
export function deviceFromDisk(ctx: LibxlHost, domid: number, disk: DeviceDisk): LibxlDevice {
  const devid = deviceDiskDevNumber(disk.vdev).devid;
  if (devid === -1) {
    throw ctx.log.fail(ERROR_INVAL, `${DISK_C}:libxl__device_from_disk`, `Invalid or unsupported virtual disk identifier ${disk.vdev}`, domid);
  }
  const backendKind = BACKEND_KINDS[disk.backend];
  if (backendKind === undefined) {
    throw ctx.log.fail(ERROR_INVAL, `${DISK_C}:libxl__device_from_disk`, `Unrecognized disk backend type: ${diskBackendNumber(disk.backend)}`, domid);
  }
  return {
    backendDomid: disk.backend_domid,
    backendDevid: devid,
    backendKind,
    domid,
    devid,
    kind: disk.backend === 'standalone' ? 'virtio_disk' : 'vbd',
  };
}

function diskBackendNumber(b: DiskBackend): number {
  return ['unknown', 'phy', 'tap', 'qdisk', 'standalone'].indexOf(b);
}

// libxl__device_disk_string_of_format
function stringOfFormat(f: DiskFormat): string {
  return f === 'raw' || f === 'empty' ? 'aio' : f;
}

// libxl__abs_path
function absPath(path: string, dir: string): string {
  return path.startsWith('/') ? path : `${dir}/${path}`;
}

/** The backend and frontend keys device_disk_add writes, in its order. */
export function diskXenstoreEntries(ctx: LibxlHost, domid: number, disk: DeviceDisk, device: LibxlDevice): { back: Kvs; front: Kvs } {
  const back: Kvs = [];
  switch (disk.backend) {
    case 'phy':
      back.push(['params', disk.pdev_path ?? '']);
      back.push(['script', absPath(disk.script ?? 'block', ctx.scriptDir)]);
      break;
    case 'tap':
      throw ctx.log.fail(ERROR_FAIL, `${DISK_C}:device_disk_add`, 'blktap is not supported');
    case 'qdisk':
      back.push(['params', `${stringOfFormat(disk.format)}:${disk.pdev_path ?? ''}`]);
      if (disk.colo_enable) {
        // libxl formats these with %s: an unset one is written as glibc's "(null)"
        back.push(['colo-host', disk.colo_host ?? '(null)']);
        back.push(['colo-port', String(disk.colo_port)]);
        back.push(['colo-export', disk.colo_export ?? '(null)']);
        back.push(['active-disk', disk.active_disk ?? '(null)']);
        back.push(['hidden-disk', disk.hidden_disk ?? '(null)']);
      }
      break;
    case 'standalone':
      back.push(['params', disk.pdev_path ?? '']);
      break;
    default:
      throw ctx.log.fail(ERROR_INVAL, `${DISK_C}:device_disk_add`, `Unrecognized disk backend type: ${diskBackendNumber(disk.backend)}`, domid);
  }
  back.push(
    ['frontend-id', String(domid)],
    ['online', '1'],
    ['removable', disk.removable ? '1' : '0'],
    ['bootable', '1'],
    ['state', String(XenbusState.Initialising)],
    ['dev', disk.vdev ?? ''],
    ['type', disk.backend === 'qdisk' ? 'qdisk' : disk.backend === 'standalone' ? 'standalone' : 'phy'],
    ['mode', disk.readwrite ? 'w' : 'r'],
    ['device-type', disk.is_cdrom ? 'cdrom' : 'disk'],
  );
  if (disk.direct_io_safe) back.push(['direct-io-safe', '1']);
  back.push(['discard-enable', disk.discard_enable ? '1' : '0']);
  back.push(['specification', disk.specification]);
  if (disk.specification === 'virtio') {
    back.push(['transport', 'mmio'], ['base', String(disk.base)], ['irq', String(disk.irq)]);
  }

  const front: Kvs = [
    ['backend-id', String(disk.backend_domid)],
    ['state', String(XenbusState.Initialising)],
    ['virtual-device', String(device.devid)],
    ['device-type', disk.is_cdrom ? 'cdrom' : 'disk'],
    ['trusted', disk.trusted ? '1' : '0'],
  ];
  // libxl also writes `protocol` for PV guests, from the hypervisor's idea of the guest's ABI.
  // Without a hypervisor to ask it is left to the frontend, which every kernel since 2.6.26 does.
  return { back, front };
}

/**
 * How deviceDiskAdd runs. The wait for the backend is bounded by `timeoutMs` (libxl's
 * LIBXL_INIT_TIMEOUT, DEVICE_TIMEOUT_MS, when unset; a timeout is LibxlError ERROR_TIMEDOUT), the
 * hotplug script by `hotplugTimeoutMs` (LIBXL_HOTPLUG_TIMEOUT), and both are given up with
 * AbortedError when `signal` fires.
 */
export interface DiskAddOptions extends DeviceWaitOptions {
  /** Update the domain's saved configuration (libxl_device_disk_add does; domain creation does not). */
  updateJson?: boolean;
  /**
   * Wait for the backend and run its hotplug script, as libxl does (libxl__wait_device_connection);
   * false returns after the commit, leaving both to someone else.
   */
  wait?: boolean;
}

/**
 * device_disk_add / libxl_device_disk_add: the disk's backend, frontend and /libxl nodes in one
 * transaction (retried when xenstore reports a conflict), then, optionally, the wait for the
 * backend. Fills in the disk's defaults as libxl does; returns the device it wrote.
 */
export async function deviceDiskAdd(ctx: LibxlCtx, domid: number, disk: DeviceDisk, opts: DiskAddOptions = {}): Promise<LibxlDevice> {
  throwIfAborted(opts.signal, 'libxl_device_disk_add');
  const updateJson = opts.updateJson ?? true;
  const diskSaved = deviceDiskCopy(disk);
  const type = await domainType(ctx, domid);

  const device = await ctx.xs.transaction(async (tx) => {
    // each attempt starts again from the caller's disk, as libxl's loop re-runs setdefault
    Object.assign(disk, deviceDiskCopy(diskSaved));
    await resolveDiskBackend(ctx, disk);
    deviceDiskSetdefault(ctx, domid, disk, updateJson, type);
    let dev: LibxlDevice;
    try {
      dev = deviceFromDisk(ctx, domid, disk);
    } catch (e) {
      // libxl logs this a second time on the way out
      ctx.log.log('error', `${DISK_C}:device_disk_add`, `Invalid or unsupported virtual disk identifier ${disk.vdev}`, domid);
      throw e;
    }
    if (await deviceExists(tx, dev)) {
      throw ctx.log.fail(ERROR_DEVICE_EXISTS, `${DISK_C}:device_disk_add`, 'device already exists in xenstore', domid);
    }
    const { back, front } = diskXenstoreEntries(ctx, domid, disk, dev);
    if (updateJson) await updateDomainConfiguration(ctx, domid, 'disks', diskSaved.vdev, diskJsonObject(diskSaved));
    await deviceGenericAdd(tx, dev, back, front, ctx.pipeline);
    return dev;
  });

  if (opts.wait ?? true) await waitDeviceConnection(ctx, device, opts);
  return device;
}

/** The disk as libxl_device_disk_gen_json writes it, as a JSON value. */
function diskJsonObject(disk: DeviceDisk): Record<string, unknown> {
  return Object.fromEntries(diskJsonFields(disk).map(([k, v]) => [k, JSON.parse(v) as unknown]));
}

/**
 * libxl_device_disk_safe_remove (`off`), libxl_device_disk_remove (`auto`) and
 * libxl_device_disk_destroy (`on`); see RemoveForce. The wait for the backend to close is bounded
 * as deviceDiskAdd's (DEVICE_TIMEOUT_MS, libxl's LIBXL_DESTROY_TIMEOUT, when unset). As in libxl
 * 4.17 the saved configuration keeps the disk: only an add writes it, and what reads it back
 * (libxl_retrieve_domain_configuration) goes by what xenstore still holds.
 */
export async function deviceDiskRemove(ctx: LibxlCtx, domid: number, disk: DeviceDisk, force: RemoveForce, opts: DeviceWaitOptions = {}): Promise<void> {
  throwIfAborted(opts.signal, 'libxl_device_disk_remove');
  const dev = deviceFromDisk(ctx, domid, disk);
  await deviceGenericRemove(ctx, dev, force, opts);
}
