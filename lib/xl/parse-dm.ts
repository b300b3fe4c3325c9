/**
 * The end of xl's parse_config_data (tools/xl/xl_parse.c, Xen 4.17): device-model keys,
 * device_model_args, the top-level VNC/SDL keys and the HVM-only display, spice, serial and USB
 * keys, then the trailing flags.
 */

import type { DomainConfig } from '../libxl/types/domain-config.js';
import { parseTopLevelSdl, parseTopLevelVnc } from './devices.js';
import { asciiLower, enumFromString, ESRCH, kb, readKeys, toInt, type KeyRead, type XlGetters } from './getters.js';
import type { SpiceInfo } from '../libxl/types/domain-config.js';
import { deviceVfbInit } from '../libxl/types/devices.js';
import { vncInfoInit, sdlInfoInit } from '../libxl/types/display.js';

const VGA: Record<string, 'std' | 'cirrus' | 'none' | 'qxl'> = { stdvga: 'std', cirrus: 'cirrus', none: 'none', qxl: 'qxl' };
const GFX_PASSTHRU_KINDS = ['default', 'igd'];
const VENDOR_DEVICES = ['none', 'xenserver'];

// parse_config_data, from device_model to dm_restrict
export function parseDeviceModelKeys(g: XlGetters, d: DomainConfig): void {
  const { c_info, b_info } = d;
  let buf = g.str('device_model');
  if (buf !== null) {
    g.err('WARNING: ignoring device_model directive.\nWARNING: Use "device_model_override" instead if you really want a non-default device_model\n');
    if (buf.includes('stubdom-dm')) {
      if (c_info.type === 'hvm') g.err('WARNING: Or use "device_model_stubdomain_override" if you  want to enable stubdomains\n');
      else g.err('WARNING: ignoring "device_model_stubdomain_override" directive for pv guest\n');
    }
  }
  b_info.device_model = g.replace('device_model_override', b_info.device_model);
  buf = g.str('device_model_version');
  if (buf !== null) {
    if (buf === 'qemu-xen-traditional') b_info.device_model_version = 'qemu_xen_traditional';
    else if (buf === 'qemu-xen') b_info.device_model_version = 'qemu_xen';
    else g.fail(`Unknown device_model_version "${buf}" specified\n`);
  } else if (b_info.device_model !== null) {
    g.err('WARNING: device model override given without specific DM version\n');
  }
  b_info.device_model_stubdomain = g.defbool('device_model_stubdomain_override', b_info.device_model_stubdomain);
  if (g.str('device_model_stubdomain_seclabel') !== null) {
    b_info.device_model_ssid_label = g.replace('device_model_stubdomain_seclabel', b_info.device_model_ssid_label);
  }
  b_info.device_model_user = g.replace('device_model_user', b_info.device_model_user);
  b_info.stubdomain_kernel = g.replace('stubdomain_kernel', b_info.stubdomain_kernel);
  b_info.stubdomain_cmdline = g.replace('stubdomain_cmdline', b_info.stubdomain_cmdline);
  b_info.stubdomain_ramdisk = g.replace('stubdomain_ramdisk', b_info.stubdomain_ramdisk);
  const l = g.long('stubdomain_memory');
  if (l !== null) b_info.stubdomain_memkb = kb(l);

  // parse_extra_args
  for (const [suffix, field] of [['', 'extra'], ['_pv', 'extra_pv'], ['_hvm', 'extra_hvm']] as const) {
    const e = g.stringList(`device_model_args${suffix}`, false);
    if (Array.isArray(e)) b_info[field] = e;
    else if (e !== ESRCH) g.fail(`xl: Unable to parse device_model_args${suffix}.\n`, 3);
  }

  if (c_info.type === 'pv' && d.vfbs.length === 0) {
    const v = g.long('vnc');
    if (v !== null && v !== 0n) {
      const vfb = deviceVfbInit(0);
      d.vfbs.push(vfb);
      d.vkbs.push({ devid: 0 });
      parseTopLevelVnc(g, vfb.vnc);
      parseTopLevelSdl(g, vfb.sdl);
      vfb.keymap = g.replace('keymap', vfb.keymap);
    }
  } else if (c_info.type === 'hvm') {
    parseTopLevelVnc(g, b_info.hvm.vnc);
    parseTopLevelSdl(g, b_info.hvm.sdl);
  } else {
    // xl writes these into u.hvm of a PV or PVH union, past the members that reach the JSON:
    // the getters still run (and warn), the values are lost.
    parseTopLevelVnc(g, vncInfoInit());
    parseTopLevelSdl(g, sdlInfoInit());
  }
  b_info.dm_restrict = g.defbool('dm_restrict', b_info.dm_restrict);
}

// parse_config_data's spice keys, in its order
const SPICE_KEYS: readonly (readonly [KeyRead, string, Extract<keyof SpiceInfo, string>])[] = [
  ['defbool', 'spice', 'enable'], ['int', 'spiceport', 'port'], ['int', 'spicetls_port', 'tls_port'], ['string', 'spicehost', 'host'],
  ['defbool', 'spicedisable_ticketing', 'disable_ticketing'], ['string', 'spicepasswd', 'passwd'],
  ['defbool', 'spiceagent_mouse', 'agent_mouse'], ['defbool', 'spicevdagent', 'vdagent'],
  ['defbool', 'spice_clipboard_sharing', 'clipboard_sharing'], ['int', 'spiceusbredirection', 'usbredirection'],
  ['string', 'spice_image_compression', 'image_compression'], ['string', 'spice_streaming_video', 'streaming_video'],
];

// parse_config_data: the HVM-only block after dm_restrict
export function parseHvmDisplayKeys(g: XlGetters, d: DomainConfig): void {
  const h = d.b_info.hvm;
  let buf = g.str('vga');
  if (buf !== null) {
    const k = Object.hasOwn(VGA, buf) ? VGA[buf] : undefined;
    if (k === undefined) g.fail(`Unknown vga "${buf}" specified\n`);
    h.vga.kind = k!;
  } else {
    const l = g.long('stdvga');
    if (l !== null) h.vga.kind = l !== 0n ? 'std' : 'cirrus';
  }
  buf = g.str('hdtype');
  if (buf !== null) {
    const t = asciiLower(buf);
    if (t !== 'ide' && t !== 'ahci') g.fail(`ERROR: invalid value "${buf}" for "hdtype"\n`);
    h.hdtype = t as 'ide' | 'ahci';
  }
  h.keymap = g.replace('keymap', h.keymap);
  readKeys(g, h.spice, SPICE_KEYS);
  h.nographic = g.defbool('nographic', h.nographic);

  let l = g.long('gfx_passthru', true);
  if (l !== null) h.gfx_passthru = l !== 0n;
  else {
    buf = g.str('gfx_passthru');
    if (buf !== null) {
      const k = enumFromString(GFX_PASSTHRU_KINDS, buf);
      if (k === null) g.fail(`ERROR: invalid value "${buf}" for "gfx_passthru"\n`);
      h.gfx_passthru_kind = k!;
      h.gfx_passthru = true;
    }
  }
  listOrAtom(g, 'serial', (v) => (h.serial_list = v), (v) => (h.serial = v));
  h.boot = g.replace('boot', h.boot);
  h.usb = g.defbool('usb', h.usb);
  l = g.long('usbversion');
  if (l !== null) h.usbversion = toInt(l);
  listOrAtom(g, 'usbdevice', (v) => (h.usbdevice_list = v), (v) => (h.usbdevice = v));
  h.vkb_device = g.defbool('vkb_device', h.vkb_device);
  h.soundhw = g.replace('soundhw', h.soundhw);
  h.xen_platform_pci = g.defbool('xen_platform_pci', h.xen_platform_pci);

  if (h.vnc.listen !== null && h.vnc.display !== 0 && h.vnc.listen.includes(':')) {
    g.fail('ERROR: Display specified both in vnclisten and vncdisplay!\n');
  }
  buf = g.str('vendor_device');
  if (buf !== null) {
    const v = enumFromString(VENDOR_DEVICES, buf);
    if (v === null) g.fail(`xl: unknown vendor_device '${buf}'\n`, 3);
    h.vendor_device = v!;
  }
}

// The serial/usbdevice switch: a list, else an atom, else "Unable to parse".
function listOrAtom(g: XlGetters, key: string, list: (v: string[]) => void, atom: (v: string) => void): void {
  const v = g.stringList(key, true);
  if (Array.isArray(v)) return list(v);
  if (v === ESRCH) return;
  const s = g.str(key);
  if (s === null) g.fail(`xl: Unable to parse ${key}.\n`, 3);
  atom(s!);
}

// parse_config_data: the keys after the vkb list
export function parseTrailingFlags(g: XlGetters, d: DomainConfig): void {
  d.c_info.xend_suspend_evtchn_compat = g.defbool('xend_suspend_evtchn_compat', d.c_info.xend_suspend_evtchn_compat);
  const m = g.defboolSet('msr_relaxed');
  if (m !== null) {
    d.b_info.msr_relaxed = m;
    g.err('WARNING: msr_relaxed will be removed in future versions.\n' +
      'If it fixes an issue you are having please report to xen-devel@lists.xenproject.org.\n');
  }
  d.b_info.vpmu = g.defbool('vpmu', d.b_info.vpmu);
}
