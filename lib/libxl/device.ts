/**
 * The generic device layer of libxl (libxl_device.c): where a device lives in xenstore, how it is
 * written (one transaction, libxl's permissions and order) and how it is taken away.
 */
import { bounded, type WaitOptions } from '../util/wait.js';
import type { XsOps } from '../xenstore/api.js';
import { XsError, type XsPerm } from '../xenstore/messages.js';
import type { LibxlCtx } from './ctx.js';
import { domainPath, libxlPath } from './domain.js';
import { ERROR_FAIL, LibxlError } from './errors.js';

/** libxl__device: one device of one domain, with the kinds of its two halves. */
export interface LibxlDevice {
  backendDomid: number;
  backendDevid: number;
  /** Backend kind: `vbd`, `qdisk`, `virtio_disk`, ... */
  backendKind: string;
  domid: number;
  devid: number;
  /** Frontend kind (also the kind under /libxl): `vbd`, `virtio_disk`, ... */
  kind: string;
}

/** XenbusState, the state machine both halves of a PV device walk through. */
export const XenbusState = {
  Unknown: 0,
  Initialising: 1,
  InitWait: 2,
  Initialised: 3,
  Connected: 4,
  Closing: 5,
  Closed: 6,
  Reconfiguring: 7,
  Reconfigured: 8,
} as const;

/** Key/value pairs in the order libxl writes them (its flexarray). */
export type Kvs = [key: string, value: string][];

// libxl__domain_device_frontend_path
export function frontendPath(domid: number, devid: number, kind: string): string {
  return `${domainPath(domid)}/device/${kind}/${devid}`;
}

// libxl__domain_device_backend_path
export function backendPath(backendDomid: number, kind: string, domid: number, devid: number): string {
  return `${domainPath(backendDomid)}/backend/${kind}/${domid}/${devid}`;
}

// libxl__domain_device_libxl_path
export function libxlDevicePath(domid: number, devid: number, kind: string): string {
  return `${libxlPath(domid)}/device/${kind}/${devid}`;
}

// libxl__device_frontend_path / libxl__device_backend_path / libxl__device_libxl_path
export function devicePaths(d: LibxlDevice): { frontend: string; backend: string; libxl: string } {
  return {
    frontend: frontendPath(d.domid, d.devid, d.kind),
    backend: backendPath(d.backendDomid, d.backendKind, d.domid, d.backendDevid),
    libxl: libxlDevicePath(d.domid, d.devid, d.kind),
  };
}

// libxl__backendpath_parse_domid: "/local/domain/<id>/..." -> id
export function backendPathParseDomid(path: string): number | undefined {
  const m = /^\/local\/domain\/(\d+)\//.exec(path);
  return m ? Number(m[1]) : undefined;
}

// libxl__device_exists: a device is there when its libxl path is
export async function deviceExists(tx: XsOps, d: LibxlDevice): Promise<boolean> {
  return tx.exists(devicePaths(d).libxl);
}

/** One xenstore request of a longer sequence; see runSteps. */
export type XsStep = () => Promise<void>;

/**
 * Runs requests in order: one round trip each, or (pipelined) all sent at once and awaited
 * together, which gives the same result because a daemon answers a connection in order.
 */
export async function runSteps(steps: XsStep[], pipeline: boolean): Promise<void> {
  if (pipeline) {
    await Promise.all(steps.map((s) => s()));
    return;
  }
  for (const s of steps) await s();
}

// libxl__xs_writev
function writev(tx: XsOps, dir: string, kvs: Kvs): XsStep[] {
  return kvs.map(([k, v]) => () => tx.write(`${dir}/${k}`, v));
}

// libxl__xs_writev_perms: each key written, then given the permissions
function writevPerms(tx: XsOps, dir: string, kvs: Kvs, perms: XsPerm[]): XsStep[] {
  return kvs.flatMap(([k, v]): XsStep[] => [() => tx.write(`${dir}/${k}`, v), () => tx.setPerms(`${dir}/${k}`, perms)]);
}

/**
 * libxl__device_generic_add, inside the caller's transaction. The frontend belongs to the guest
 * and the backend domain may read it; the backend belongs to the backend domain and the guest
 * may read it; the /libxl copy of the backend keys is left to dom0 (it inherits /libxl's
 * permissions), so libxl never has to trust what a backend wrote.
 */
export async function deviceGenericAdd(tx: XsOps, d: LibxlDevice, bents: Kvs, fents: Kvs, pipeline = true): Promise<void> {
  const p = devicePaths(d);
  const frontendPerms: XsPerm[] = [
    { domid: d.domid, access: 'none' },
    { domid: d.backendDomid, access: 'read' },
  ];
  const backendPerms: XsPerm[] = [
    { domid: d.backendDomid, access: 'none' },
    { domid: d.domid, access: 'read' },
  ];
  await runSteps(
    [
      () => rmIfThere(tx, p.libxl),
      () => tx.write(`${p.libxl}/frontend`, p.frontend),
      () => tx.write(`${p.libxl}/backend`, p.backend),

      () => rmIfThere(tx, p.frontend),
      () => tx.mkdir(p.frontend),
      () => tx.setPerms(p.frontend, frontendPerms),
      () => tx.write(`${p.frontend}/backend`, p.backend),
      ...writevPerms(tx, p.frontend, fents, frontendPerms),

      () => rmIfThere(tx, p.backend),
      () => tx.mkdir(p.backend),
      () => tx.setPerms(p.backend, backendPerms),
      () => tx.write(`${p.backend}/frontend`, p.frontend),
      ...writev(tx, p.backend, bents),

      ...writev(tx, p.libxl, bents),
    ],
    pipeline,
  );
}

/** xs_rm that, like libxl__xs_rm_checked, does not mind a path that is not there. */
async function rmIfThere(tx: XsOps, path: string): Promise<void> {
  try {
    await tx.rm(path);
  } catch (e) {
    if (!(e instanceof XsError && e.errnoName === 'ENOENT')) throw e;
  }
}

// libxl__xs_path_cleanup: remove the node, then every parent it leaves empty
export async function xsPathCleanup(tx: XsOps, path: string): Promise<void> {
  await rmIfThere(tx, path);
  for (let dir = parentOf(path); dir !== '/' && dir !== ''; dir = parentOf(dir)) {
    let children: string[];
    try {
      children = await tx.directory(dir);
    } catch {
      continue;
    }
    if (children.length > 0) break;
    await tx.rm(dir);
  }
}

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/')) || '/';
}

// libxl__device_destroy: the toolstack removes frontend and /libxl, the backend domain its half
export async function deviceDestroy(ctx: LibxlCtx, d: LibxlDevice): Promise<void> {
  const p = devicePaths(d);
  await ctx.xs.transaction(async (tx) => {
    if (ctx.toolstackDomid === 0) {
      await xsPathCleanup(tx, p.frontend);
      await xsPathCleanup(tx, p.libxl);
    }
    if (d.backendDomid === ctx.toolstackDomid) await xsPathCleanup(tx, p.backend);
  });
}

/**
 * libxl__wait_for_backend's loop over a xenstore watch: resolves with the state once `path` reads
 * as one of `states`. Fails with WaitTimeoutError after `opts.timeoutMs` (none: no bound),
 * AbortedError when `opts.signal` fires, LibxlError(ERROR_FAIL) if the connection closes.
 */
export async function waitForState(ctx: LibxlCtx, path: string, states: readonly number[], opts: WaitOptions = {}): Promise<number> {
  return bounded(`xenstore ${path} to become ${states.join(' or ')}`, opts, async (signal) => {
    const watch = await ctx.xs.watch(path);
    try {
      for (;;) {
        const now = await ctx.xs.tryRead(path);
        if (now !== undefined && states.includes(Number(now))) return Number(now);
        if ((await watch.next({ signal })) === undefined) throw new LibxlError(ERROR_FAIL, `xenstore closed while waiting for ${path} (it is ${now ?? 'missing'})`);
      }
    } finally {
      await watch.close();
    }
  });
}
