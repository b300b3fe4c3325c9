/**
 * The middle of xl's parse_config_data (tools/xl/xl_parse.c, Xen 4.17): the build-info keys
 * from shadow_memory to the type switch (firmware, kernel or bootloader, the HVM platform
 * flags, viridian) and altp2m.
 */

import type { DomainConfig } from '../libxl/types/domain-config.js';
import { enumFromString, ESRCH, kb, toInt, toU32, type XlGetters } from './getters.js';
import { xlCrashes } from './devices.js';
import { strtokAll } from '../util/cstr.js';
import { parseMcaCaps } from './parse-platform.js';

const TSC_MODES = ['default', 'always_emulate', 'native', 'native_paravirt'];
const TIMER_MODES = ['delay_for_missed_ticks', 'no_delay_for_missed_ticks', 'no_missed_ticks_pending', 'one_missed_tick_pending'];
const PASSTHROUGH = ['default', 'disabled', 'enabled', 'sync_pt', 'share_pt'];
const BIOS = ['unknown', 'rombios', 'seabios', 'ovmf'];
const ALTP2M = ['disabled', 'mixed', 'external', 'limited'];
const VIRIDIAN = [
  'base', 'freq', 'time_ref_count', 'reference_tsc', 'hcall_remote_tlb_flush', 'apic_assist', 'crash_ctl', 'synic',
  'stimer', 'hcall_ipi', 'ex_processor_masks', 'no_vp_limit', 'cpu_hotplug',
];
/** LIBXL_BUILDINFO_HVM_VIRIDIAN_ENABLE_DISABLE_WIDTH */
const VIRIDIAN_WIDTH = 64;
/** HVM_BELOW_4G_MMIO_LENGTH and _START (xen/include/public/hvm/e820.h) */
const MMIO_LENGTH = 0x10000000n;
const MMIO_START = 0xf0000000n;
/** XENFIRMWAREDIR of Debian's Xen 4.17 */
const XENFIRMWAREDIR = '/usr/lib/xen-4.17/boot';

const prefixOf = (buf: string, word: string): boolean => word.startsWith(buf);

// libxl_basename
function basename(name: string | null): string {
  if (name === null || name === '') return '.';
  const i = name.lastIndexOf('/');
  return i < 0 ? name : name.slice(i + 1);
}

/** The deprecated integer form of tsc_mode/timer_mode, then the named one. */
function namedOrInteger(
  g: XlGetters, key: string, names: readonly string[], first: number, onInteger: () => void, onString: () => void,
): string | null {
  const l = g.long(key, true);
  if (l !== null) {
    onInteger();
    // libxl_<enum>_to_string of the value cut to an int; timer_mode's enum also names -1.
    const i = toInt(l);
    const s = key === 'timer_mode' && i === -1 ? 'unknown' : names[i - first];
    g.err(`WARNING: specifying "${key}" as an integer is deprecated. Please use the named parameter variant. ` +
      `${s !== undefined ? `e.g. ${key}="` : ''}${s ?? ''}${s !== undefined ? '"' : ''}\n`);
    if (l < BigInt(first) || l >= BigInt(first + names.length)) g.fail(`ERROR: invalid value ${l} for "${key}"\n`);
    return names[Number(l) - first]!;
  }
  const buf = g.str(key);
  if (buf === null) return null;
  onString();
  if (key === 'tsc_mode') g.err(`got a tsc mode string: "${buf}"\n`);
  const v = enumFromString(names, buf);
  if (v === null) g.fail(`ERROR: invalid value "${buf}" for "${key}"\n`);
  return v;
}

// split_string_into_string_list(buf, " \t\n")
function splitArgs(g: XlGetters, buf: string): string[] {
  const t = strtokAll(buf, ' \t\n').map((x) => x.token);
  if (t.length === 0) xlCrashes(g, `bootloader_args = "${buf}" (no word in it)`);
  return t;
}

// parse_config_data, from passthrough to the type switch
export function parseBuildKeys(g: XlGetters, d: DomainConfig): void {
  const { c_info, b_info } = d;
  let buf = g.str('passthrough');
  if (buf !== null) {
    const v = enumFromString(PASSTHROUGH, buf);
    if (v === null) g.fail(`ERROR: unknown passthrough option '${buf}'\n`);
    c_info.passthrough = v!;
  }
  let l = g.long('shadow_memory');
  if (l !== null) b_info.shadow_memkb = kb(l);
  b_info.disable_migrate = g.defbool('nomigrate', b_info.disable_migrate);

  const tsc = namedOrInteger(g, 'tsc_mode', TSC_MODES, 0, () => undefined, () => undefined);
  if (tsc !== null) b_info.tsc_mode = tsc;

  l = g.long('rtc_timeoffset');
  if (l !== null) b_info.rtc_timeoffset = toU32(l);
  if (g.long('vncviewer') !== null) {
    g.err('WARNING: ignoring "vncviewer" option. Use "-V" option of "xl create" to automatically spawn vncviewer.\n');
  }
  b_info.localtime = g.defbool('localtime', b_info.localtime);
  l = g.long('videoram');
  if (l !== null) b_info.video_memkb = kb(l);
  l = g.long('max_event_channels');
  if (l !== null) b_info.event_channels = toU32(l);

  b_info.kernel = g.replace('kernel', b_info.kernel);
  b_info.ramdisk = g.replace('ramdisk', b_info.ramdisk);
  b_info.device_tree = g.replace('device_tree', b_info.device_tree);
  b_info.cmdline = parseCmdline(g);
  c_info.driver_domain = g.defbool('driver_domain', c_info.driver_domain);
  b_info.acpi = g.defbool('acpi', b_info.acpi);
  b_info.bootloader = g.replace('bootloader', b_info.bootloader);
  const args = g.stringList('bootloader_args', true);
  if (Array.isArray(args)) b_info.bootloader_args = args;
  else if (args !== ESRCH) {
    buf = g.str('bootloader_args');
    if (buf !== null) {
      g.err('WARNING: Specifying "bootloader_args" as a string is deprecated. Please use a list of arguments.\n');
      b_info.bootloader_args = splitArgs(g, buf);
    }
  }

  const pvTimer = (): void => {
    if (c_info.type === 'pv') g.fail('ERROR: "timer_mode" option is not supported for PV guests.\n', 3);
  };
  const timer = namedOrInteger(g, 'timer_mode', TIMER_MODES, 0, pvTimer, pvTimer);
  if (timer !== null) b_info.timer_mode = timer;
  b_info.nested_hvm = g.defbool('nestedhvm', b_info.nested_hvm);

  if (c_info.type === 'hvm') parseHvmPlatform(g, d);
  else {
    // The firmware key is a shorthand for a PV-GRUB kernel here.
    buf = g.str('firmware');
    if (buf !== null) {
      if (b_info.kernel !== null) g.fail('ERROR: both kernel and firmware specified\n');
      if (!prefixOf(buf, 'pvgrub32') && !prefixOf(buf, 'pvgrub64')) {
        g.fail('ERROR: only pvgrub{32|64} supported as firmware options\n');
      }
      b_info.kernel = `${XENFIRMWAREDIR}/${buf}.bin`;
    }
    if (b_info.bootloader === null && b_info.kernel === null) g.fail('Neither kernel nor bootloader specified\n');
  }

  l = g.long('altp2m', true);
  if (l !== null) {
    if (l < 0n || l > 3n) g.fail(`ERROR: invalid value ${l} for "altp2m"\n`);
    b_info.altp2m = ALTP2M[Number(l)]!;
  } else {
    buf = g.str('altp2m');
    if (buf !== null) {
      const v = enumFromString(ALTP2M, buf);
      if (v === null) g.fail(`ERROR: invalid value "${buf}" for "altp2m"\n`);
      b_info.altp2m = v!;
    }
  }
  l = g.long('vmtrace_buf_kb', true);
  if (l !== null && l !== 0n) b_info.vmtrace_buf_kb = toInt(l);
}

// parse_cmdline
function parseCmdline(g: XlGetters): string | null {
  const cmdline = g.str('cmdline');
  const root = g.str('root');
  const extra = g.str('extra');
  if (cmdline !== null) {
    if (root !== null || extra !== null) g.err('Warning: ignoring root= and extra= in favour of cmdline=\n');
    return cmdline;
  }
  if (root !== null) return extra !== null ? `root=${root} ${extra}` : `root=${root}`;
  return extra;
}

// parse_config_data: the HVM case of the type switch
function parseHvmPlatform(g: XlGetters, d: DomainConfig): void {
  const b = d.b_info;
  const h = b.hvm;
  if (basename(b.kernel) === 'hvmloader') {
    g.err('WARNING: you seem to be using "kernel" directive to override HVM guest firmware. Ignore that. ' +
      'Use "firmware_override" instead if you really want a non-default firmware\n');
    b.kernel = null;
  }
  h.firmware = g.replace('firmware_override', h.firmware);
  h.system_firmware = g.replace('bios_path_override', h.system_firmware);
  let buf = g.str('bios');
  if (buf !== null) {
    const v = enumFromString(BIOS, buf);
    if (v === null) g.fail(`ERROR: invalid value "${buf}" for "bios"\n`);
    h.bios = v!;
  } else if (h.system_firmware !== null) {
    g.err('WARNING: bios_path_override given without specific bios name\n');
  }
  h.pae = g.defbool('pae', h.pae);
  h.acpi_s3 = g.defbool('acpi_s3', h.acpi_s3);
  h.acpi_s4 = g.defbool('acpi_s4', h.acpi_s4);
  h.acpi_laptop_slate = g.defbool('acpi_laptop_slate', h.acpi_laptop_slate);
  h.nx = g.defbool('nx', h.nx);
  h.hpet = g.defbool('hpet', h.hpet);
  h.vpt_align = g.defbool('vpt_align', h.vpt_align);
  b.apic = g.defbool('apic', b.apic);
  parseViridian(g, d);

  const l = g.long('mmio_hole');
  if (l !== null) {
    h.mmio_hole_memkb = kb(l);
    const size = BigInt.asUintN(64, h.mmio_hole_memkb * 1024n);
    if (size < MMIO_LENGTH || size > MMIO_START) g.fail(`ERROR: invalid value ${l} for "mmio_hole"\n`);
  }
  const alt = g.defboolSet('altp2mhvm');
  if (alt !== null) {
    h.altp2m = alt;
    g.err('WARNING: Specifying "altp2mhvm" is deprecated. Please use "altp2m" instead.\n');
  }
  h.smbios_firmware = g.replace('smbios_firmware', h.smbios_firmware);
  h.acpi_firmware = g.replace('acpi_firmware', h.acpi_firmware);
  buf = g.str('ms_vm_genid');
  if (buf === 'generate') h.ms_vm_genid = msVmGenidGenerate();
  else if (buf !== null && buf !== 'none') g.fail('ERROR: "ms_vm_genid" option must be "generate" or "none"\n');
  const m = g.long('rdm_mem_boundary');
  if (m !== null) h.rdm_mem_boundary_memkb = kb(m);
  parseMcaCaps(g, d);

  buf = g.str('firmware');
  if (buf !== null) {
    const v = enumFromString(BIOS, buf);
    if (v !== null) h.bios = v;
    else if (prefixOf(buf, 'uefi')) h.bios = 'ovmf';
    else if (!prefixOf(buf, 'bios')) h.firmware = g.replace('firmware', h.firmware);
  }
}

// libxl_ms_vm_genid_generate: 16 random bytes, never all zero (that means "none").
function msVmGenidGenerate(): number[] {
  for (;;) {
    const b = [...globalThis.crypto.getRandomValues(new Uint8Array(16))];
    if (b.some((x) => x !== 0)) return b;
  }
}

// parse_config_data: viridian= as a list of enlightenments, or as a boolean
function parseViridian(g: XlGetters, d: DomainConfig): void {
  const h = d.b_info.hvm;
  const list = g.config.getList('viridian', true);
  if (typeof list === 'number') {
    if (list !== ESRCH) h.viridian = g.defbool('viridian', h.viridian, true);
    return;
  }
  if (list.length > 0) {
    h.viridian_enable = new Set();
    h.viridian_disable = new Set();
  }
  for (const item of list) {
    // A nested list item reads as NULL, which strcmp dereferences.
    if (item.kind !== 'string') xlCrashes(g, 'a list inside viridian=');
    let buf = item.value;
    if (buf === 'all') {
      for (let i = 0; i < VIRIDIAN_WIDTH; i++) h.viridian_enable!.add(i);
    } else if (buf === 'defaults') {
      h.viridian = true;
    } else {
      let s = h.viridian_enable!;
      let r = h.viridian_disable!;
      if (buf.startsWith('!')) {
        [s, r] = [r, s];
        buf = buf.slice(1);
      }
      const v = enumFromString(VIRIDIAN, buf);
      if (v === null) g.fail(`xl: unknown viridian enlightenment '${buf}'\n`, 3);
      const bit = VIRIDIAN.indexOf(v!);
      s.add(bit);
      r.delete(bit);
    }
  }
}
