/**
 * What libxl_ctx holds for the ports here: the host facts libxl gets from its build
 * configuration or the hypervisor, the logger and, for anything that touches devices, xenstore.
 */
import { statSync, type Stats } from 'node:fs';
import type { Xenstore } from '../xenstore/api.js';
import type { Logger } from '../util/log.js';
import { libxlLog, type LibxlLog } from './log.js';

/** stat(2) as libxl uses it: Stats, or a thrown errno error. */
export type StatFn = (path: string) => Stats;

/** The part of a libxl context that needs no xenstore (disk defaults, device-model arguments). */
export interface LibxlHost {
  /** libxl's LOG: the caller's logger, scoped `libxl` (see lib/libxl/log.ts). */
  log: LibxlLog;
  /** libxl__xen_script_dir_path (XEN_SCRIPT_DIR). */
  scriptDir: string;
  /** The domain this toolstack runs in (libxl__get_domid); 0 for dom0. */
  toolstackDomid: number;
  /** stat(2), replaceable so tests can describe files that are not on this machine. */
  stat: StatFn;
}

export interface LibxlCtx extends LibxlHost {
  xs: Xenstore;
  /**
   * Send a step's xenstore requests together instead of one round trip at a time (the default).
   * The daemon answers a connection's requests in order, so the result is the same.
   */
  pipeline: boolean;
  /** Where per-domain userdata lives (libxl: XEN_LIB_DIR, /var/lib/xen). */
  userdataDir: string;
  /** The environment hotplug scripts start from (libxl's own, plus the script's variables). */
  env: NodeJS.ProcessEnv;
  /** Where a hotplug script's output goes (see HotplugOutput). */
  hotplugOutput: HotplugOutput;
}

/**
 * A hotplug script's stdout and stderr: the toolstack's stderr (fd 2, where libxl sends them),
 * nowhere, or to a function (the CLI's stderr stream).
 */
export type HotplugOutput = 'stderr' | 'ignore' | ((text: string) => void);

export interface LibxlCtxOptions {
  /** Where libxl's messages go (libxlLineLogger gives xl's stderr lines); silent by default. */
  logger?: Logger;
  userdataDir?: string;
  scriptDir?: string;
  toolstackDomid?: number;
  stat?: StatFn;
  pipeline?: boolean;
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default 'ignore': a library does not write to the console unless told to. */
  hotplugOutput?: HotplugOutput;
}

export function libxlHost(opts: LibxlCtxOptions = {}): LibxlHost {
  return {
    log: libxlLog(opts.logger),
    scriptDir: opts.scriptDir ?? '/etc/xen/scripts',
    toolstackDomid: opts.toolstackDomid ?? 0,
    stat: opts.stat ?? ((p) => statSync(p)),
  };
}

// libxl_ctx_alloc, minus what needs a hypervisor
export function libxlCtx(xs: Xenstore, opts: LibxlCtxOptions = {}): LibxlCtx {
  return {
    ...libxlHost(opts),
    xs,
    userdataDir: opts.userdataDir ?? '/var/lib/xen',
    pipeline: opts.pipeline ?? true,
    env: opts.env ?? process.env,
    hotplugOutput: opts.hotplugOutput ?? 'ignore',
  };
}
