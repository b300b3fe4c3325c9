/**
 * xl's parse_config_data (tools/xl/xl_parse.c, Xen 4.17) for the keys colo-xl supports: the same
 * getters called in the same order (so libxlu's warnings come out in the same order), the same
 * defaults, the same validation messages and exit statuses. Other keys are kept and listed in
 * `unsupported` instead of being dropped silently.
 */

import { DiskScannerFatal, DiskSpecError, parseDiskSpec } from '../disk/parse.js';
import {
  ACTIONS_ON_SHUTDOWN, domainConfigInit, MEMKB_DEFAULT, type ActionOnShutdown, type DomainConfig, type DomainType,
} from './domain-config.js';
import { xluCfgReadData } from './parse.js';
import { ESRCH, listItem, type XluConfig } from './settings.js';

/** xl calling exit(status) after printing its message. */
export class XlExit extends Error {
  constructor(readonly status: number) {
    super(`xl exits with status ${status}`);
    this.name = 'XlExit';
  }
}

/** xl's global options from /etc/xen/xl.conf that reach a parsed domain config. */
export interface XlGlobals {
  runHotplugScripts: boolean;
  claimMode: boolean;
}

export const XL_GLOBAL_DEFAULTS: XlGlobals = { runHotplugScripts: true, claimMode: true };

export interface ParseConfigOptions {
  /** stderr. */
  err: (text: string) => void;
  globals?: XlGlobals;
  /** libxl_uuid_generate; tests pin it. */
  generateUuid?: () => string;
}

/** Every key parse_config_data reads for the supported subset. */
export const SUPPORTED_KEYS = [
  'name', 'uuid', 'type', 'builder', 'memory', 'maxmem', 'vcpus', 'maxvcpus', 'disk', 'device_model_version',
  'device_model_override', 'boot', 'vnc', 'vnclisten', 'vncdisplay', 'vncunused', 'sdl', 'serial', 'nographic',
  'stdvga', 'vga', 'videoram', 'hdtype', 'on_poweroff', 'on_reboot', 'on_crash', 'on_watchdog', 'on_soft_reset',
  // read by the same xl code paths, so supported as well
  'vncpasswd', 'opengl', 'display', 'xauthority', 'keymap',
  // the kernel command line, which libxl hands to an HVM guest's firmware as well
  'cmdline', 'root', 'extra',
] as const;

// xl's action_on_shutdown_names, indexed like libxl_action_on_shutdown.
const ACTION_NAMES = ['destroy', 'restart', 'rename-restart', 'preserve', 'coredump-destroy', 'coredump-restart', 'soft-reset'];

// parse_action_on_shutdown
function parseActionOnShutdown(buf: string): ActionOnShutdown | null {
  const i = ACTION_NAMES.indexOf(buf);
  return i < 0 ? null : ACTIONS_ON_SHUTDOWN[i]!;
}

// libxl_uuid_from_string: 36 characters in the 8-4-4-4-12 hex layout.
export function uuidFromString(s: string): string | null {
  return /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(s) ? s.toLowerCase() : null;
}

const prefixOf = (buf: string, word: string): boolean => word.startsWith(buf);
const toInt = (v: bigint): number => Number(BigInt.asIntN(32, v));
const kb = (l: bigint): bigint => BigInt.asUintN(64, l * 1024n);

// parse_config_data
export function parseConfigData(source: string, data: string, opts: ParseConfigOptions): DomainConfig {
  const err = opts.err;
  const globals = opts.globals ?? XL_GLOBAL_DEFAULTS;
  const fail = (msg: string, status = 1): never => {
    err(msg);
    throw new XlExit(status);
  };
  const read = xluCfgReadData(data, source);
  if (read.report) err(read.report);
  if (read.err) fail(`Failed to parse config: ${read.err === 34 ? 'Numerical result out of range' : 'Invalid argument'}\n`);
  const config = read.config;
  config.report = err;
  const d = domainConfigInit();
  const { c_info, b_info } = d;
  const str = (k: string): string | null => {
    const v = config.getString(k);
    return typeof v === 'string' ? v : null;
  };
  const long = (k: string): bigint | null => {
    const v = config.getLong(k);
    return typeof v === 'number' ? null : v.value;
  };
  const defbool = (k: string): boolean | null => {
    const v = config.getDefbool(k);
    return typeof v === 'number' ? null : v;
  };
  // xlu_cfg_replace_string: keeps the old value when the key is absent or not a string.
  const replace = (k: string, old: string | null): string | null => str(k) ?? old;

  c_info.run_hotplug_scripts = globals.runHotplugScripts;

  let buf = str('type');
  if (buf !== null) {
    if (prefixOf(buf, 'hvm')) c_info.type = 'hvm';
    else if (prefixOf(buf, 'pv')) c_info.type = 'pv';
    else if (prefixOf(buf, 'pvh')) c_info.type = 'pvh';
    else fail(`Invalid domain type ${buf}.\n`);
  }
  buf = str('builder');
  if (buf !== null) {
    let builderType: DomainType = 'invalid';
    if (prefixOf(buf, 'hvm')) builderType = 'hvm';
    else if (prefixOf(buf, 'generic')) builderType = 'pv';
    else fail(`Invalid domain type ${buf}.\n`);
    if (c_info.type !== 'invalid' && c_info.type !== builderType) {
      fail('Contradicting "builder" and "type" options specified.\n');
    }
    c_info.type = builderType;
  }
  if (c_info.type === 'invalid') c_info.type = 'pv';

  c_info.name = str('name');
  if (c_info.name === null) fail('Domain name must be specified.\n');

  buf = str('uuid');
  if (buf !== null) {
    const u = uuidFromString(buf);
    if (u === null) fail(`Failed to parse UUID: ${buf}\n`);
    c_info.uuid = u!;
  } else {
    // globalThis.crypto loads only when a uuid has to be made (cheaper start-up than node:crypto).
    c_info.uuid = opts.generateUuid ? opts.generateUuid() : globalThis.crypto.randomUUID();
  }

  let l = long('memory');
  if (l !== null) b_info.target_memkb = kb(l);
  l = long('maxmem');
  if (l !== null) b_info.max_memkb = kb(l);
  let vcpus = 0;
  l = long('vcpus');
  if (l !== null) {
    vcpus = toInt(l);
    // libxl_cpu_bitmap_alloc refuses a negative size.
    if (vcpus < 0) {
      fail('libxl: error: libxl_utils.c:809:libxl_cpu_bitmap_alloc: invalid number of cpus provided\nUnable to allocate cpumap\n');
    }
    b_info.avail_vcpus = Array.from({ length: vcpus }, (_, i) => i);
    b_info.avail_vcpus_allocated = true;
  }
  l = long('maxvcpus');
  if (l !== null) b_info.max_vcpus = toInt(l);

  if (b_info.max_memkb === MEMKB_DEFAULT) b_info.max_memkb = b_info.target_memkb;
  if (b_info.max_vcpus === 0) b_info.max_vcpus = vcpus;
  if (b_info.max_vcpus < vcpus) fail('xl: maxvcpus < vcpus\n');

  b_info.claim_mode = globals.claimMode;

  const action = (key: string, dflt: string): ActionOnShutdown => {
    const v = str(key) ?? dflt;
    const a = parseActionOnShutdown(v);
    if (a === null) fail(`Unknown ${key} action "${v}" specified\n`);
    return a!;
  };
  d.on_poweroff = action('on_poweroff', 'destroy');
  d.on_reboot = action('on_reboot', 'restart');
  d.on_watchdog = action('on_watchdog', 'destroy');
  d.on_crash = action('on_crash', 'destroy');
  d.on_soft_reset = action('on_soft_reset', 'soft-reset');

  l = long('videoram');
  if (l !== null) b_info.video_memkb = kb(l);

  b_info.cmdline = parseCmdline(str, err);

  // PV and PVH need a kernel, a bootloader or firmware, none of which colo-xl supports.
  if (c_info.type !== 'hvm') fail('Neither kernel nor bootloader specified\n');

  parseDisks(config, source, d, fail, err);

  b_info.device_model = replace('device_model_override', b_info.device_model);
  buf = str('device_model_version');
  if (buf !== null) {
    if (buf === 'qemu-xen-traditional') b_info.device_model_version = 'qemu_xen_traditional';
    else if (buf === 'qemu-xen') b_info.device_model_version = 'qemu_xen';
    else fail(`Unknown device_model_version "${buf}" specified\n`);
  } else if (b_info.device_model !== null) {
    err('WARNING: device model override given without specific DM version\n');
  }

  const hvm = b_info.hvm;
  // parse_top_level_vnc_options, parse_top_level_sdl_options
  hvm.vnc.enable = defbool('vnc') ?? hvm.vnc.enable;
  hvm.vnc.listen = replace('vnclisten', hvm.vnc.listen);
  hvm.vnc.passwd = replace('vncpasswd', hvm.vnc.passwd);
  l = long('vncdisplay');
  if (l !== null) hvm.vnc.display = toInt(l);
  hvm.vnc.findunused = defbool('vncunused') ?? hvm.vnc.findunused;
  hvm.sdl.enable = defbool('sdl') ?? hvm.sdl.enable;
  hvm.sdl.opengl = defbool('opengl') ?? hvm.sdl.opengl;
  hvm.sdl.display = replace('display', hvm.sdl.display);
  hvm.sdl.xauthority = replace('xauthority', hvm.sdl.xauthority);

  buf = str('vga');
  if (buf !== null) {
    const kinds: Record<string, 'std' | 'cirrus' | 'none' | 'qxl'> = { stdvga: 'std', cirrus: 'cirrus', none: 'none', qxl: 'qxl' };
    const k = Object.hasOwn(kinds, buf) ? kinds[buf] : undefined;
    if (k === undefined) fail(`Unknown vga "${buf}" specified\n`);
    hvm.vga.kind = k!;
  } else {
    l = long('stdvga');
    if (l !== null) hvm.vga.kind = l !== 0n ? 'std' : 'cirrus';
  }

  buf = str('hdtype');
  if (buf !== null) {
    // libxl_hdtype_from_string compares case-insensitively.
    const t = buf.toLowerCase();
    if (t !== 'ide' && t !== 'ahci') fail(`ERROR: invalid value "${buf}" for "hdtype"\n`);
    hvm.hdtype = t as 'ide' | 'ahci';
  }
  hvm.keymap = replace('keymap', hvm.keymap);
  hvm.nographic = defbool('nographic') ?? hvm.nographic;

  const serial = config.getListAsStringList('serial', true);
  if (Array.isArray(serial)) {
    const end = serial.indexOf(null);
    hvm.serial_list = (end < 0 ? serial : serial.slice(0, end)) as string[];
  } else if (serial !== ESRCH) {
    hvm.serial = replace('serial', hvm.serial);
  }
  hvm.boot = replace('boot', hvm.boot);

  if (hvm.vnc.listen !== null && hvm.vnc.display !== 0 && hvm.vnc.listen.includes(':')) {
    fail('ERROR: Display specified both in vnclisten and vncdisplay!\n');
  }

  const supported: readonly string[] = SUPPORTED_KEYS;
  for (const name of config.names()) {
    if (!supported.includes(name)) d.unsupported.push({ name, line: config.find(name)!.line });
  }
  return d;
}

// parse_cmdline
function parseCmdline(str: (k: string) => string | null, err: (t: string) => void): string | null {
  const cmdline = str('cmdline');
  const root = str('root');
  const extra = str('extra');
  if (cmdline !== null) {
    if (root !== null || extra !== null) err('Warning: ignoring root= and extra= in favour of cmdline=\n');
    return cmdline;
  }
  if (root !== null) return extra !== null ? `root=${root} ${extra}` : `root=${root}`;
  return extra;
}

function parseDisks(
  config: XluConfig, source: string, d: DomainConfig, fail: (msg: string, status?: number) => never, err: (t: string) => void,
): void {
  const vbds = config.getList('disk');
  if (typeof vbds === 'number') return;
  for (let i = 0; ; i++) {
    const spec = listItem(vbds, i);
    if (spec === null) break;
    try {
      d.disks.push(parseDiskSpec(spec, { source }));
    } catch (e) {
      if (e instanceof DiskSpecError) fail(e.report, 1);
      if (e instanceof DiskScannerFatal) {
        err(e.report);
        throw new XlExit(e.exitStatus);
      }
      throw e;
    }
  }
}
