/**
 * Hotplug scripts, as libxl runs them itself on Linux (libxl_device.c's device_hotplug and
 * device_hotplug_child_death_cb, libxl_linux.c's libxl__get_hotplug_script_info, libxl_aoutils.c's
 * async exec): a phy disk's backend waits in InitWait until its `script` (`/etc/xen/scripts/block`)
 * has set it up and written `physical-device`; on removal the same script undoes it. Backends
 * QEMU serves (qdisk) have no script.
 */
import { spawn } from 'node:child_process';
import { writeSync } from 'node:fs';
import { constants } from 'node:os';
import { AbortedError } from '../errors.js';
import type { LibxlCtx } from './ctx.js';
import { devicePaths, type LibxlDevice } from './device.js';
import { ERROR_FAIL, ERROR_TIMEDOUT, LibxlError } from './errors.js';

/** LIBXL_HOTPLUG_TIMEOUT: how long a hotplug script may run before it is killed. */
export const HOTPLUG_TIMEOUT_MS = 40_000;

/** libxl__device_action. */
export type DeviceAction = 'add' | 'remove';

const DEVICE_C = 'libxl_device.c';

/** libxl__get_hotplug_script_info for a disk: the script and its environment, or none to run. */
async function hotplugScriptInfo(ctx: LibxlCtx, dev: LibxlDevice, action: DeviceAction, numExec: number): Promise<{ args: [string, string]; env: Record<string, string> } | undefined> {
  // Only blkback's devices (backend kind vbd) have a script, and only one run of it.
  if (dev.backendKind !== 'vbd') {
    ctx.log.log('debug', 'libxl_linux.c:libxl__get_hotplug_script_info', `backend_kind ${dev.backendKind}, no need to execute scripts`, dev.domid);
    return undefined;
  }
  if (numExec !== 0) {
    ctx.log.log('debug', 'libxl_linux.c:libxl__get_hotplug_script_info', `num_exec ${numExec}, not running hotplug scripts`, dev.domid);
    return undefined;
  }
  // libxl__hotplug_disk
  const be = devicePaths(dev).backend;
  const script = await ctx.xs.tryRead(`${be}/script`);
  if (script === undefined) {
    ctx.log.log('error', 'libxl_linux.c:libxl__hotplug_disk', `unable to read script from ${be}: No such file or directory`, dev.domid);
    ctx.log.log('error', `${DEVICE_C}:device_hotplug`, `unable to get args/env to execute hotplug script for device ${be}`, dev.domid);
    throw new LibxlError(ERROR_FAIL, `unable to read script from ${be}`);
  }
  // get_hotplug_env: paths relative to the backend domain's home, as the scripts' xenstore-* calls use them
  const env = {
    script,
    XENBUS_TYPE: dev.backendKind,
    XENBUS_PATH: `backend/${dev.backendKind}/${dev.domid}/${dev.devid}`,
    XENBUS_BASE_PATH: 'backend',
  };
  ctx.log.log('debug', 'libxl_linux.c:libxl__hotplug_disk', 'Args and environment ready', dev.domid);
  return { args: [script, action], env };
}

export interface HotplugOptions {
  signal?: AbortSignal;
  /** LIBXL_HOTPLUG_TIMEOUT unless given. */
  timeoutMs?: number;
}

/**
 * device_hotplug until it has nothing more to run. On `add` a failed script fails the add
 * (LibxlError, after libxl's messages); on `remove` libxl carries on whatever the script did, and
 * so does this.
 */
export async function deviceHotplug(ctx: LibxlCtx, dev: LibxlDevice, action: DeviceAction, opts: HotplugOptions = {}): Promise<void> {
  // A driver domain runs its own scripts (libxl waits for it to remove the backend instead).
  if (dev.backendDomid !== ctx.toolstackDomid) {
    ctx.log.log('debug', `${DEVICE_C}:device_hotplug`, `Backend domid ${dev.backendDomid}, domid ${ctx.toolstackDomid}, assuming driver domains`, dev.domid);
    return;
  }
  for (let numExec = 0; ; numExec++) {
    const info = await hotplugScriptInfo(ctx, dev, action, numExec);
    if (info === undefined) {
      ctx.log.log('debug', `${DEVICE_C}:device_hotplug`, 'No hotplug script to execute', dev.domid);
      return;
    }
    ctx.log.log('debug', `${DEVICE_C}:device_hotplug`, `calling hotplug script: ${info.args[0]} ${info.args[1]}`, dev.domid);
    try {
      await runScript(ctx, dev, info.args, info.env, opts);
    } catch (e) {
      if (action === 'add' || !(e instanceof LibxlError)) throw e;
    }
  }
}

/** libxl__async_exec_start and async_exec_done/timeout, then device_hotplug_child_death_cb's verdict. */
async function runScript(ctx: LibxlCtx, dev: LibxlDevice, args: [string, string], extra: Record<string, string>, opts: HotplugOptions): Promise<void> {
  const what = `${args[0]} ${args[1]}`;
  const timeoutMs = opts.timeoutMs ?? HOTPLUG_TIMEOUT_MS;
  ctx.log.log('debug', 'libxl_aoutils.c:libxl__async_exec_start', `forking to execute: ${what} `);
  // stdin /dev/null, stdout onto the toolstack's stderr (libxl's stdfds {nullfd, 2, -1})
  const sink = ctx.hotplugOutput;
  const out = sink === 'stderr' ? 2 : sink === 'ignore' ? 'ignore' : 'pipe';
  const child = spawn(args[0], [args[1]], { env: { ...ctx.env, ...extra }, stdio: ['ignore', out, out] });
  if (typeof sink === 'function') {
    child.stdout?.setEncoding('utf8').on('data', sink);
    child.stderr?.setEncoding('utf8').on('data', sink);
  }
  let killedFor: 'timeout' | 'abort' | undefined;
  const kill = (why: 'timeout' | 'abort'): void => {
    killedFor ??= why;
    if (why === 'timeout') ctx.log.log('error', 'libxl_aoutils.c:async_exec_timeout', `killing execution of ${what} because of timeout`);
    child.kill('SIGKILL');
  };
  const timer = setTimeout(() => kill('timeout'), timeoutMs);
  const onAbort = (): void => kill('abort');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let status: { code: number | null; signal: NodeJS.Signals | null; spawnError?: Error };
  try {
    status = await new Promise((resolve) => {
      child.once('error', (e) => resolve({ code: null, signal: null, spawnError: e }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  if (killedFor === 'abort') throw new AbortedError(`hotplug script ${what}`, { cause: opts.signal?.reason });
  if (killedFor === 'timeout') throw new LibxlError(ERROR_TIMEDOUT, `${what} timed out`);
  if (status.spawnError) {
    // libxl__exec's child, failing execvp: its message, then exit status 255
    const errno = (status.spawnError as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : status.spawnError.message;
    const said = `libxl: cannot execute ${args[0]}: ${errno}\n`;
    if (sink === 'stderr') writeSync(2, said);
    else if (typeof sink === 'function') sink(said);
    ctx.log.log('error', 'libxl_exec.c:libxl_report_child_exitstatus', `${what} [${child.pid ?? -1}] exited with error status 255`);
    throw new LibxlError(ERROR_FAIL, `libxl: cannot execute ${args[0]}: ${errno}`, { cause: status.spawnError });
  }
  if (status.code === 0) return;
  ctx.log.log('error', 'libxl_exec.c:libxl_report_child_exitstatus', exitReport(what, child.pid ?? -1, status.code, status.signal));
  const hotplugError = await ctx.xs.tryRead(`${devicePaths(dev).backend}/hotplug-error`);
  if (hotplugError !== undefined) ctx.log.log('error', `${DEVICE_C}:device_hotplug_child_death_cb`, `script: ${hotplugError}`);
  throw new LibxlError(ERROR_FAIL, `${what} failed${hotplugError !== undefined ? `: ${hotplugError}` : ''}`);
}

/** libxl_report_child_exitstatus's words for a child that did not exit 0. */
function exitReport(what: string, pid: number, code: number | null, signal: NodeJS.Signals | null): string {
  if (code !== null) return `${what} [${pid}] exited with error status ${code}`;
  const text = signal === null ? undefined : SIGNAL_TEXT[signal];
  if (text !== undefined) return `${what} [${pid}] died due to fatal signal ${text}`;
  return `${what} [${pid}] died due to unknown fatal signal number ${signal === null ? '?' : constants.signals[signal]}`;
}

// strsignal(3)'s text for the signals a script dies of
const SIGNAL_TEXT: Partial<Record<NodeJS.Signals, string>> = {
  SIGKILL: 'Killed',
  SIGTERM: 'Terminated',
  SIGSEGV: 'Segmentation fault',
  SIGABRT: 'Aborted',
  SIGINT: 'Interrupt',
  SIGHUP: 'Hangup',
  SIGPIPE: 'Broken pipe',
};
