/**
 * Disks as libxl 4.17 keeps them in xenstore (libxl_disk.c): defaults, the device written in one
 * transaction, read back from libxl's own copy, listed and removed.
 */
import { deviceDiskSetBackend } from './backend.js';
import { diskDevNumber } from './devnum.js';
import { diskJsonFields } from './json.js';
import { deviceDiskCopy, deviceDiskInit, type DeviceDisk, type DiskBackend, type DiskFormat } from './types.js';
import type { LibxlCtx, LibxlHost } from '../libxl/ctx.js';
import {
  backendPathParseDomid,
  deviceExists,
  deviceGenericAdd,
  deviceGenericRemove,
  devicePaths,
  frontendPath,
  libxlDevicePath,
  waitForState,
  XenbusState,
  type Kvs,
  type LibxlDevice,
  type RemoveForce,
} from '../libxl/device.js';
import { domainType, libxlPath, resolveDomid, type DomainType } from '../libxl/domain.js';
import { updateDomainConfiguration } from '../libxl/userdata.js';
import { ERROR_DEVICE_EXISTS, ERROR_FAIL, ERROR_INVAL, LibxlError } from '../libxl/errors.js';
import type { XsOps } from '../xenstore/api.js';

const DISK_C = 'libxl_disk.c';

/** How long libxl waits for a device's backend (LIBXL_INIT_TIMEOUT / LIBXL_DESTROY_TIMEOUT). */
export const DEVICE_TIMEOUT_MS = 10_000;

/**
 * libxl__device_disk_setdefault. The backend domain must already be a domid (see
 * resolveDiskBackend): that is the one step that needs xenstore, so callers without one (the
 * device-model builder) can use the rest.
 */
export function deviceDiskSetdefault(host: LibxlHost, domid: number, disk: DeviceDisk, hotplug: boolean, type: DomainType | 'invalid'): void {
  const where = `${DISK_C}:libxl__device_disk_setdefault`;
  disk.discard_enable ??= !!disk.readwrite;
  disk.colo_enable ??= false;
  disk.colo_restore_enable ??= false;
  disk.trusted ??= true;

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

// libxl__resolve_domid, as libxl__device_disk_setdefault calls it: backend= names a domain
export async function resolveDiskBackend(ctx: LibxlCtx, disk: DeviceDisk): Promise<void> {
  disk.backend_domid = await resolveDomid(ctx, disk.backend_domname, disk.backend_domid);
}

const BACKEND_KINDS: Partial<Record<DiskBackend, string>> = { phy: 'vbd', tap: 'vbd', qdisk: 'qdisk', standalone: 'virtio_disk' };

// libxl__device_from_disk
export function deviceFromDisk(ctx: LibxlHost, domid: number, disk: DeviceDisk): LibxlDevice {
  const devid = diskDevNumber(disk.vdev).devid;
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

export interface DiskAddOptions {
  /** Update the domain's saved configuration (libxl_device_disk_add does; domain creation does not). */
  updateJson?: boolean;
  /** Wait for the backend to connect (XenbusStateConnected); false returns after the commit. */
  wait?: boolean;
  timeoutMs?: number;
}

/**
 * device_disk_add / libxl_device_disk_add: the disk's backend, frontend and /libxl nodes in one
 * transaction (retried when xenstore reports a conflict), then, optionally, the wait for the
 * backend. Fills in the disk's defaults as libxl does; returns the device it wrote.
 */
export async function deviceDiskAdd(ctx: LibxlCtx, domid: number, disk: DeviceDisk, opts: DiskAddOptions = {}): Promise<LibxlDevice> {
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

  if (opts.wait ?? true) await waitDeviceConnection(ctx, device, opts.timeoutMs ?? DEVICE_TIMEOUT_MS);
  return device;
}

/** The disk as libxl_device_disk_gen_json writes it, as a JSON value. */
function diskJsonObject(disk: DeviceDisk): Record<string, unknown> {
  return Object.fromEntries(diskJsonFields(disk).map(([k, v]) => [k, JSON.parse(v) as unknown]));
}

// libxl__wait_device_connection: the backend has to come up
async function waitDeviceConnection(ctx: LibxlCtx, device: LibxlDevice, timeoutMs: number): Promise<void> {
  const be = devicePaths(device).backend;
  try {
    await waitForState(ctx, `${be}/state`, [XenbusState.Connected], timeoutMs);
  } catch (e) {
    if (e instanceof LibxlError) ctx.log.log('error', 'libxl_device.c:device_backend_callback', `unable to add device with path ${be}`, device.domid);
    throw e;
  }
}

/** Every node libxl__disk_from_xenstore may read. */
const DISK_NODES = [
  'backend', 'params', 'colo-host', 'colo-port', 'colo-export', 'active-disk', 'hidden-disk', 'type',
  'specification', 'transport', 'base', 'irq', 'dev', 'removable', 'mode', 'device-type',
];

type NodeReader = (key: string) => Promise<string | undefined>;

/**
 * Reads a disk's nodes one at a time as libxl does, or (pipelined) every node it may need in one
 * go; the checks then run in libxl's order either way, so the answers and errors are the same.
 */
async function diskNodeReader(ops: XsOps, dir: string, pipeline: boolean): Promise<NodeReader> {
  if (!pipeline) return (key) => ops.tryRead(`${dir}/${key}`);
  // list first, so no request is spent on a node that is not there (a refusal costs more)
  let present: Set<string>;
  try {
    present = new Set(await ops.directory(dir));
  } catch {
    present = new Set();
  }
  const keys = DISK_NODES.filter((k) => present.has(k));
  const values = await Promise.all(keys.map((k) => ops.tryRead(`${dir}/${k}`)));
  const known = new Map(keys.map((k, i) => [k, values[i]]));
  return async (key) => known.get(key);
}

// libxl_string_to_backend (libxl_utils.c), as the read-back uses it
function stringToBackend(s: string): DiskBackend {
  if (s === 'phy') return 'phy';
  if (s === 'file' || s === 'vbd3') return 'tap';
  if (s === 'qdisk') return 'qdisk';
  if (s === 'standalone') return 'standalone';
  return 'unknown';
}

/** C atoi for the numbers libxl reads back. */
function atoiNode(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m ? Number(BigInt.asIntN(32, BigInt(m[1]!))) : 0;
}

/**
 * libxl__disk_from_xenstore: a disk from libxl's own copy of its backend keys (not from the
 * backend, which libxl does not trust). The format is never recorded, so it comes back unknown.
 */
export async function diskFromXenstore(ctx: LibxlCtx, libxlDevPath: string, ops: XsOps = ctx.xs): Promise<DeviceDisk> {
  const where = `${DISK_C}:libxl__disk_from_xenstore`;
  const disk = deviceDiskInit();
  const read = await diskNodeReader(ops, libxlDevPath, ctx.pipeline);
  // a required node: libxl says which one is missing
  const required = async (key: string): Promise<string> => {
    const v = await read(key);
    if (v === undefined) throw ctx.log.fail(ERROR_FAIL, where, `Missing xenstore node ${libxlDevPath}/${key}`);
    return v;
  };
  const backend = await read('backend');
  // the real message has this unbalanced parenthesis
  if (backend === undefined) throw ctx.log.fail(ERROR_FAIL, where, `disk ${libxlDevPath} does not exist (no backend path`);
  const bdomid = backendPathParseDomid(backend);
  if (bdomid === undefined) throw ctx.log.fail(ERROR_FAIL, where, `Unable to fetch device backend domid from ${backend}`);
  disk.backend_domid = bdomid;

  const params = await read('params');
  if (params !== undefined) disk.pdev_path = params.includes(':') ? params.slice(params.indexOf(':') + 1) : params;

  const coloHost = await read('colo-host');
  if (coloHost !== undefined) {
    disk.colo_enable = true;
    disk.colo_host = coloHost;
    disk.colo_port = atoiNode(await required('colo-port'));
    disk.colo_export = await required('colo-export');
    disk.active_disk = await required('active-disk');
    disk.hidden_disk = await required('hidden-disk');
  } else {
    disk.colo_enable = false;
  }

  disk.backend = stringToBackend(await required('type'));

  const spec = await read('specification');
  if (spec === undefined) {
    ctx.log.log('debug', where, `Missing xenstore node ${libxlDevPath}/specification, assuming specification xen`);
    disk.specification = 'xen';
  } else if (spec === 'xen' || spec === 'virtio') {
    disk.specification = spec;
  } else {
    throw ctx.log.fail(ERROR_FAIL, where, `Unable to parse xenstore node ${libxlDevPath}/specification`);
  }
  if (disk.specification === 'virtio') {
    if ((await required('transport')) !== 'mmio') {
      throw ctx.log.fail(ERROR_FAIL, where, 'Only transport mmio is expected for specification virtio');
    }
    disk.transport = 'mmio';
    disk.base = BigInt.asUintN(64, BigInt((await required('base')).match(/^\d*/)![0] || '0'));
    disk.irq = atoiNode(await required('irq')) >>> 0;
  }

  disk.vdev = await required('dev');
  disk.removable = atoiNode(await required('removable'));
  disk.readwrite = (await required('mode')) === 'w' ? 1 : 0;
  disk.is_cdrom = (await required('device-type')) === 'cdrom' ? 1 : 0;
  disk.format = 'unknown';
  return disk;
}

// libxl_vdev_to_device_disk
export async function vdevToDeviceDisk(ctx: LibxlCtx, domid: number, vdev: string): Promise<DeviceDisk> {
  const devid = diskDevNumber(vdev).devid;
  if (devid < 0) throw new LibxlError(ERROR_INVAL, `invalid vdev ${vdev}`);
  return diskFromXenstore(ctx, libxlDevicePath(domid, devid, 'vbd'));
}

// libxl_device_disk_list (libxl__device_list): every vbd under /libxl/<domid>; one bad entry fails all
export async function deviceDiskList(ctx: LibxlCtx, domid: number): Promise<DeviceDisk[]> {
  const dir = `${libxlPath(domid)}/device/vbd`;
  let ids: string[];
  try {
    ids = await ctx.xs.directory(dir);
  } catch {
    return [];
  }
  if (ctx.pipeline) return Promise.all(ids.map((id) => diskFromXenstore(ctx, `${dir}/${id}`)));
  const disks: DeviceDisk[] = [];
  for (const id of ids) disks.push(await diskFromXenstore(ctx, `${dir}/${id}`));
  return disks;
}

/** libxl_diskinfo: what `xl block-list` shows of one disk. */
export interface DiskInfo {
  backend: string;
  backendId: number;
  frontend: string | undefined;
  frontendId: number;
  devid: number;
  state: number;
  evtch: number;
  rref: number;
}

// libxl_device_disk_getinfo
export async function deviceDiskGetinfo(ctx: LibxlCtx, domid: number, disk: DeviceDisk): Promise<DiskInfo> {
  const devid = diskDevNumber(disk.vdev).devid;
  const fe = frontendPath(domid, devid, 'vbd');
  const lp = libxlDevicePath(domid, devid, 'vbd');
  const backend = await ctx.xs.tryRead(`${lp}/backend`);
  if (backend === undefined) throw new LibxlError(ERROR_FAIL, `no backend for ${lp}`);
  const backendId = backendPathParseDomid(backend);
  if (backendId === undefined) throw new LibxlError(ERROR_FAIL, `Unable to fetch device backend domid from ${backend}`);
  // strtoul of a missing node is -1 here, as an int
  const num = async (key: string): Promise<number> => {
    const v = await ctx.xs.tryRead(`${fe}/${key}`);
    return v === undefined ? -1 : Number(BigInt.asIntN(32, BigInt(/^\s*\d+/.exec(v)?.[0]?.trim() ?? '0')));
  };
  return {
    backend,
    backendId,
    frontend: await ctx.xs.tryRead(`${lp}/frontend`),
    frontendId: domid,
    devid,
    state: await num('state'),
    evtch: await num('event-channel'),
    rref: await num('ring-ref'),
  };
}

/**
 * libxl_device_disk_safe_remove (`off`), libxl_device_disk_remove (`auto`) and
 * libxl_device_disk_destroy (`on`); see RemoveForce. The saved configuration forgets the disk
 * once it is gone.
 */
export async function deviceDiskRemove(ctx: LibxlCtx, domid: number, disk: DeviceDisk, force: RemoveForce, timeoutMs = DEVICE_TIMEOUT_MS): Promise<void> {
  const dev = deviceFromDisk(ctx, domid, disk);
  await deviceGenericRemove(ctx, dev, force, timeoutMs);
  await updateDomainConfiguration(ctx, domid, 'disks', disk.vdev, undefined);
}
