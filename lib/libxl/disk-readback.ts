/**
 * Disks read back from xenstore (libxl_disk.c): from libxl's own copy of the backend keys, listed
 * per domain, and the state `xl block-list` shows.
 */
import { deviceDiskDevNumber } from './devnum.js';
import { deviceDiskInit, type DeviceDisk, type DiskBackend } from './types/disk.js';
import type { LibxlCtx } from './ctx.js';
import { backendPathParseDomid, frontendPath, libxlDevicePath } from './device.js';
import { libxlPath } from './domain.js';
import { ERROR_FAIL, ERROR_INVAL, LibxlError } from './errors.js';
import type { XsOps } from '../xenstore/api.js';

const DISK_C = 'libxl_disk.c';

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
  const devid = deviceDiskDevNumber(vdev).devid;
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
  const devid = deviceDiskDevNumber(disk.vdev).devid;
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

