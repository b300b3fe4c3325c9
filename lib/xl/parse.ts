/**
 * xl's parse_config_data (tools/xl/xl_parse.c, Xen 4.17) for the keys colo-xl ports: the same
 * getters called in the same order (so libxlu's warnings come out in the same order), the same
 * defaults, the same validation messages and exit statuses. Keys xl reads that colo-xl does not
 * port are listed in `unsupported` instead of being dropped silently; keys xl does not read at
 * all are ignored, as xl ignores them.
 */

import { DiskScannerFatal, DiskSpecError, parseDiskSpec } from '../xlu/disk/parse.js';
import {
  ACTIONS_ON_SHUTDOWN, domainConfigInit, MAX_GRANT_DEFAULT, MEMKB_DEFAULT, type ActionOnShutdown, type DomainConfig, type DomainType,
} from '../libxl/types/domain-config.js';
import { xluCfgReadData } from '../xlu/cfg/parse.js';
import { parseChannels, parseUsbctrls, parseUsbdevs, parseVfbs } from './devices.js';
import { uuidFromString } from '../libxl/uuid.js';
import { parseP9s, parsePvcalls, parseVtpms } from './pvdevices.js';
import { eachListItem, ESRCH, kb, toInt, XlGetters } from './getters.js';
import { PORTED_KEYS, UNPORTED_KEYS } from './keys.js';
import { parseVifSpec } from './nic.js';
import { parseBuildKeys } from './parse-build.js';
import { parseDeviceModelKeys, parseHvmDisplayKeys, parseTrailingFlags } from './parse-dm.js';
import { parseArmAndTee, parseDtdevs, parseIoports, parseIrqs, parseSeclabels, parseVuart } from './parse-platform.js';

export { XlExit } from './exit.js';
export { XlCrashes } from './devices.js';
export { PORTED_KEYS as SUPPORTED_KEYS } from './keys.js';

const PORTED: ReadonlySet<string> = new Set(PORTED_KEYS);

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

// xl's action_on_shutdown_names, indexed like libxl_action_on_shutdown.
const ACTION_NAMES = ['destroy', 'restart', 'rename-restart', 'preserve', 'coredump-destroy', 'coredump-restart', 'soft-reset'];

// parse_action_on_shutdown
function parseActionOnShutdown(buf: string): ActionOnShutdown | null {
  const i = ACTION_NAMES.indexOf(buf);
  return i < 0 ? null : ACTIONS_ON_SHUTDOWN[i]!;
}

export { uuidFromString } from '../libxl/uuid.js';

const prefixOf = (buf: string, word: string): boolean => word.startsWith(buf);
const INT_MAX = 2n ** 31n - 1n;

// parse_config_data
export function parseConfigData(source: string, data: string, opts: ParseConfigOptions): DomainConfig {
  const globals = opts.globals ?? XL_GLOBAL_DEFAULTS;
  const read = xluCfgReadData(data, source);
  const config = read.config;
  const g = new XlGetters(config, opts.err);
  if (read.report) g.err(read.report);
  config.report = g.err;
  if (read.err) g.fail(`Failed to parse config: ${read.err === 34 ? 'Numerical result out of range' : 'Invalid argument'}\n`);
  const d = domainConfigInit();
  const { c_info, b_info } = d;

  parseSeclabels(g, d);
  c_info.run_hotplug_scripts = globals.runHotplugScripts;
  parseDomainType(g, d);
  c_info.hap = g.defbool('hap', c_info.hap);
  c_info.name = g.replace('name', null);
  if (c_info.name === null) g.fail('Domain name must be specified.\n');
  let buf = g.str('uuid');
  if (buf !== null) {
    const u = uuidFromString(buf);
    if (u === null) g.fail(`Failed to parse UUID: ${buf}\n`);
    c_info.uuid = u!;
  } else {
    // globalThis.crypto loads only when a uuid has to be made (cheaper start-up than node:crypto).
    c_info.uuid = opts.generateUuid ? opts.generateUuid() : globalThis.crypto.randomUUID();
  }
  c_info.oos = g.defbool('oos', c_info.oos);
  if (g.str('pool') !== null) c_info.pool_name = g.replace('pool', c_info.pool_name);

  if (c_info.type === 'pvh') {
    const p = b_info.pvh;
    p.pvshim = g.defbool('pvshim', p.pvshim);
    if (g.str('pvshim_path') !== null) p.pvshim_path = g.replace('pvshim_path', p.pvshim_path);
    if (g.str('pvshim_cmdline') !== null) p.pvshim_cmdline = g.replace('pvshim_cmdline', p.pvshim_cmdline);
    if (g.str('pvshim_extra') !== null) p.pvshim_extra = g.replace('pvshim_extra', p.pvshim_extra);
  }

  const sp = b_info.sched_params;
  for (const [key, field] of [['cpu_weight', 'weight'], ['cap', 'cap'], ['period', 'period'], ['slice', 'slice'],
    ['latency', 'latency'], ['extratime', 'extratime']] as const) {
    const v = g.long(key);
    if (v !== null) sp[field] = toInt(v);
  }
  parseMemoryAndVcpus(g, d);

  for (const [key, field] of [['max_grant_frames', 'max_grant_frames'], ['max_maptrack_frames', 'max_maptrack_frames'],
    ['max_grant_version', 'max_grant_version']] as const) {
    // Bounded and silent: a bad value makes xl exit 1 without a word.
    const e = g.bounded(key, 0n, INT_MAX, true);
    if (typeof e !== 'number') b_info[field] = Number(e.value);
    else if (e !== ESRCH) g.exit(1);
    else if (field === 'max_grant_version') b_info[field] = -1;
    else b_info[field] = MAX_GRANT_DEFAULT;
  }
  b_info.claim_mode = globals.claimMode;

  const action = (key: string, dflt: string): ActionOnShutdown => {
    const v = g.str(key) ?? dflt;
    const a = parseActionOnShutdown(v);
    if (a === null) g.fail(`Unknown ${key} action "${v}" specified\n`);
    return a!;
  };
  d.on_poweroff = action('on_poweroff', 'destroy');
  d.on_reboot = action('on_reboot', 'restart');
  d.on_watchdog = action('on_watchdog', 'destroy');
  d.on_crash = action('on_crash', 'destroy');
  d.on_soft_reset = action('on_soft_reset', 'soft-reset');
  if (c_info.type === 'pv') b_info.pv.e820_host = g.defbool('e820_host', b_info.pv.e820_host);
  parseDtdevs(g, d);

  parseBuildKeys(g, d);
  parseIoports(g, d);
  parseIrqs(g, d);
  parseDisks(g, source, d);
  parseP9s(g, d);
  parseVtpms(g, d);
  parsePvcalls(g, d);
  parseChannels(g, d);
  parseVifs(g, source, d);
  if (Array.isArray(g.config.getList('vif2'))) {
    g.err('WARNING: vif2: netchannel2 is deprecated and not supported by xl\n');
  }
  parseVfbs(g, d);
  parseUsbctrls(g, d);
  parseUsbdevs(g, d);
  parseDeviceModelKeys(g, d);
  if (c_info.type === 'hvm') parseHvmDisplayKeys(g, d);
  parseArmAndTee(g, d);
  parseTrailingFlags(g, d);

  for (const name of config.names()) {
    if (UNPORTED_KEYS.has(name)) d.unsupported.push({ name, line: config.find(name)!.line });
    else if (PORTED.has(name)) d.read.push({ name, line: config.find(name)!.line });
  }
  return d;
}

// parse_config_data: type= and the deprecated builder=
function parseDomainType(g: XlGetters, d: DomainConfig): void {
  const c = d.c_info;
  let buf = g.str('type');
  if (buf !== null) {
    if (prefixOf(buf, 'hvm')) c.type = 'hvm';
    else if (prefixOf(buf, 'pv')) c.type = 'pv';
    else if (prefixOf(buf, 'pvh')) c.type = 'pvh';
    else g.fail(`Invalid domain type ${buf}.\n`);
  }
  buf = g.str('builder');
  if (buf !== null) {
    let builderType: DomainType = 'invalid';
    if (prefixOf(buf, 'hvm')) builderType = 'hvm';
    else if (prefixOf(buf, 'generic')) builderType = 'pv';
    else g.fail(`Invalid domain type ${buf}.\n`);
    if (c.type !== 'invalid' && c.type !== builderType) g.fail('Contradicting "builder" and "type" options specified.\n');
    c.type = builderType;
  }
  if (c.type === 'invalid') c.type = 'pv';
}

// parse_config_data: memory, maxmem, vcpus, maxvcpus and their defaults
function parseMemoryAndVcpus(g: XlGetters, d: DomainConfig): void {
  const b = d.b_info;
  let l = g.long('memory');
  if (l !== null) b.target_memkb = kb(l);
  l = g.long('maxmem');
  if (l !== null) b.max_memkb = kb(l);
  let vcpus = 0;
  l = g.long('vcpus');
  if (l !== null) {
    vcpus = toInt(l);
    // libxl_cpu_bitmap_alloc refuses a negative size.
    if (vcpus < 0) {
      g.fail('libxl: error: libxl_utils.c:809:libxl_cpu_bitmap_alloc: invalid number of cpus provided\nUnable to allocate cpumap\n');
    }
    b.avail_vcpus = Array.from({ length: vcpus }, (_, i) => i);
    b.avail_vcpus_allocated = true;
  }
  l = g.long('maxvcpus');
  if (l !== null) b.max_vcpus = toInt(l);
  parseVuart(g, d);
  if (b.max_memkb === MEMKB_DEFAULT) b.max_memkb = b.target_memkb;
  if (b.max_vcpus === 0) b.max_vcpus = vcpus;
  if (b.max_vcpus < vcpus) g.fail('xl: maxvcpus < vcpus\n');
}

function parseDisks(g: XlGetters, source: string, d: DomainConfig): void {
  eachListItem(g, 'disk', (spec) => {
    try {
      d.disks.push(parseDiskSpec(spec, { source }));
    } catch (e) {
      if (e instanceof DiskSpecError) g.fail(e.report, 1);
      if (e instanceof DiskScannerFatal) g.fail(e.report, e.exitStatus);
      throw e;
    }
  });
}

// parse_config_data: vif=
function parseVifs(g: XlGetters, source: string, d: DomainConfig): void {
  eachListItem(g, 'vif', (spec, i) => d.nics.push(parseVifSpec({ err: g.err, exit: (status) => g.exit(status), source }, spec, i)));
}
