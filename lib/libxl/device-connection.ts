/**
 * A device's connection and removal as libxl_device.c drives them (its "callbacks for device
 * related operations"): libxl__wait_device_connection, libxl__initiate_device_generic_remove,
 * device_backend_callback and device_hotplug_done, with the hotplug scripts of hotplug.ts between.
 */
import { WaitTimeoutError } from '../errors.js';
import { atoi } from '../util/cstr.js';
import { bounded, type WaitOptions } from '../util/wait.js';
import type { LibxlCtx } from './ctx.js';
import { deviceDestroy, devicePaths, XenbusState, xsPathCleanup, type LibxlDevice } from './device.js';
import { ERROR_FAIL, ERROR_INVAL, ERROR_TIMEDOUT, LibxlError } from './errors.js';
import { deviceHotplug } from './hotplug.js';

/** QEMU_BACKEND: kinds QEMU serves; it moves them to Connected itself, with no script to run. */
export function qemuBackend(d: LibxlDevice): boolean {
  return ['qdisk', 'vfb', 'qusb', '9pfs', 'vkbd'].includes(d.backendKind);
}

/** LIBXL_INIT_TIMEOUT and LIBXL_DESTROY_TIMEOUT: libxl's bound on each backend state wait. */
export const DEVICE_TIMEOUT_MS = 10_000;

/** What a device wait takes: the caller's signal and state-wait bound, and the script's bound. */
export interface DeviceWaitOptions extends WaitOptions {
  /** LIBXL_HOTPLUG_TIMEOUT unless given. */
  hotplugTimeoutMs?: number;
}

/**
 * libxl__ev_devstate_wait as device_backend_callback sees it: the state reaching exactly `wanted`
 * resolves; the node going away is ERROR_INVAL, the bound running out ERROR_TIMEDOUT.
 */
async function devstateWait(ctx: LibxlCtx, path: string, wanted: number, opts: WaitOptions): Promise<void> {
  try {
    await bounded(`xenstore ${path} to become ${wanted}`, { ...opts, timeoutMs: opts.timeoutMs ?? DEVICE_TIMEOUT_MS }, async (signal) => {
      const watch = await ctx.xs.watch(path);
      try {
        for (;;) {
          const now = await ctx.xs.tryRead(path);
          if (now === undefined) throw new LibxlError(ERROR_INVAL, `backend ${path} wanted state ${wanted} but it was removed`);
          if (atoi(now) === wanted) return;
          if ((await watch.next({ signal })) === undefined) throw new LibxlError(ERROR_FAIL, `xenstore closed while waiting for ${path} (it is ${now})`);
        }
      } finally {
        await watch.close();
      }
    });
  } catch (e) {
    if (e instanceof WaitTimeoutError) throw new LibxlError(ERROR_TIMEDOUT, e.message, { cause: e });
    throw e;
  }
}

/**
 * libxl__wait_device_connection: a backend QEMU serves needs no wait; any other has to reach
 * InitWait, then its hotplug script runs (device_backend_callback, device_hotplug).
 */
export async function waitDeviceConnection(ctx: LibxlCtx, d: LibxlDevice, opts: DeviceWaitOptions = {}): Promise<void> {
  const be = devicePaths(d).backend;
  if (!qemuBackend(d)) {
    try {
      await devstateWait(ctx, `${be}/state`, XenbusState.InitWait, opts);
    } catch (e) {
      if (e instanceof LibxlError) ctx.log.log('error', 'libxl_device.c:device_backend_callback', `unable to add device with path ${be}`, d.domid);
      throw e;
    }
  }
  await deviceHotplug(ctx, d, 'add', { signal: opts.signal, timeoutMs: opts.hotplugTimeoutMs });
}

/**
 * How hard a removal pushes (libxl__force): `off` fails when the backend does not close in time
 * (libxl_device_*_safe_remove), `auto` then goes on as `on` (libxl_device_*_remove), `on` also
 * removes the frontend at once and the nodes whatever the backend did (libxl_device_*_destroy).
 */
export type RemoveForce = 'off' | 'auto' | 'on';

/**
 * libxl__initiate_device_generic_remove and what follows it: tell the backend to go (online=0,
 * state=Closing), wait for Closed, run the hotplug script's `remove`, then remove the nodes
 * (device_hotplug_done). A backend already gone leaves only the rest to clean.
 */
export async function deviceGenericRemove(ctx: LibxlCtx, d: LibxlDevice, force: RemoveForce, opts: DeviceWaitOptions = {}): Promise<void> {
  const p = devicePaths(d);
  let failure: LibxlError | undefined;
  let flag = force;
  for (;;) {
    const present = await ctx.xs.transaction(async (tx) => {
      if (flag === 'on') await xsPathCleanup(tx, p.frontend);
      const state = await tx.tryRead(`${p.backend}/state`);
      if (state === undefined) return false;
      await tx.write(`${p.backend}/online`, '0');
      if (atoi(state) !== XenbusState.Closed) await tx.write(`${p.backend}/state`, String(XenbusState.Closing));
      return true;
    });
    if (!present) {
      ctx.log.log('info', 'libxl_device.c:libxl__initiate_device_generic_remove', `backend ${p.backend} already removed, cleanup frontend only`);
      break;
    }
    try {
      await devstateWait(ctx, `${p.backend}/state`, XenbusState.Closed, opts);
    } catch (e) {
      if (!(e instanceof LibxlError)) throw e;
      if (e.rc === ERROR_TIMEDOUT && flag === 'auto') {
        ctx.log.log('debug', 'libxl_device.c:device_backend_callback', 'Timeout reached, initiating forced remove', d.domid);
        flag = 'on';
        continue;
      }
      ctx.log.log('error', 'libxl_device.c:device_backend_callback', `unable to remove device with path ${p.backend}`, d.domid);
      failure = e;
      break;
    }
    // the script's failures on the way out are logged and passed over, as libxl does
    await deviceHotplug(ctx, d, 'remove', { signal: opts.signal, timeoutMs: opts.hotplugTimeoutMs });
    break;
  }
  // device_hotplug_done: a forced removal takes the nodes away even when the backend did not go
  if (failure === undefined || flag === 'on') await deviceDestroy(ctx, d);
  if (failure) throw failure;
}
