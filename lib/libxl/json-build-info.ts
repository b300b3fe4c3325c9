/** libxl_domain_build_info_gen_json (Xen 4.17 IDL order), with the union for the domain's type. */

import { MAX_GRANT_DEFAULT, PARAM_DEFAULT, type BuildInfo, type DomainConfig, type HvmBuildInfo, type SpiceInfo } from './types/domain-config.js';
import { sdlGenJson, vncGenJson } from './json-display.js';
import { element, enumv, fields, int, str, struct, type FieldSpec, type Gen } from './json-fields.js';

// libxl_spice_info_gen_json
const SPICE: readonly FieldSpec<SpiceInfo>[] = [
  'defbool enable', 'int port', 'int tls_port', 'str host', 'defbool disable_ticketing', 'str passwd', 'defbool agent_mouse',
  'defbool vdagent', 'defbool clipboard_sharing', 'int usbredirection', 'str image_compression', 'str streaming_video',
];

// the type.hvm union member, up to vga (the nested structs follow in the function)
const HVM_HEAD: readonly FieldSpec<HvmBuildInfo>[] = [
  'str firmware', 'enum bios=unknown', 'defbool pae', 'defbool acpi_s3', 'defbool acpi_s4', 'defbool acpi_laptop_slate',
  'defbool nx', 'defbool viridian', 'bitmap viridian_enable', 'bitmap viridian_disable', 'defbool hpet', 'defbool vpt_align',
  'memkb mmio_hole_memkb', 'defbool altp2m', 'str system_firmware', 'str smbios_firmware', 'str acpi_firmware',
  'enum hdtype=ide', 'defbool nographic',
];
// from gfx_passthru to usbdevice_list
const HVM_TAIL: readonly FieldSpec<HvmBuildInfo>[] = [
  'defbool gfx_passthru', 'enum gfx_passthru_kind=default', 'str serial', 'str boot', 'defbool usb', 'int usbversion',
  'str usbdevice', 'defbool vkb_device', 'str soundhw', 'defbool xen_platform_pci', 'strings usbdevice_list',
  'enum vendor_device=none',
];

function hvmGenJson(g: Gen, h: HvmBuildInfo): void {
  fields(g, h, HVM_HEAD);
  struct(g, 'vga', () => enumv(g, 'kind', h.vga.kind, 'unknown'));
  struct(g, 'vnc', () => vncGenJson(g, h.vnc));
  str(g, 'keymap', h.keymap);
  struct(g, 'sdl', () => sdlGenJson(g, h.sdl));
  struct(g, 'spice', () => fields(g, h.spice, SPICE));
  fields(g, h, HVM_TAIL);
  if (h.ms_vm_genid.some((b) => b !== 0)) {
    g.string('ms_vm_genid').arrayOpen();
    for (const b of h.ms_vm_genid) g.integer(b);
    g.arrayClose();
  }
  fields(g, h, ['strings serial_list']);
  struct(g, 'rdm', () => undefined);
  fields(g, h, ['memkb rdm_mem_boundary_memkb', 'int mca_caps']);
}

// libxl_domain_build_info: up to the grant limits, whose default is a named constant
const BUILD_HEAD: readonly FieldSpec<BuildInfo>[] = [
  'int max_vcpus', 'bitmap avail_vcpus', 'enum tsc_mode=default', 'memkb max_memkb', 'memkb target_memkb',
  'memkb video_memkb', 'memkb shadow_memkb', 'int rtc_timeoffset', 'str exec_ssid_label', 'defbool localtime',
  'defbool disable_migrate',
];
// from max_grant_version to extra_hvm
const BUILD_DM: readonly FieldSpec<BuildInfo>[] = [
  'int max_grant_version=-1', 'enum device_model_version=unknown', 'defbool device_model_stubdomain',
  'memkb stubdomain_memkb', 'str stubdomain_kernel', 'str stubdomain_cmdline', 'str stubdomain_ramdisk', 'str device_model',
  'str device_model_ssid_label', 'str device_model_user', 'strings extra', 'strings extra_pv', 'strings extra_hvm',
];
// from claim_mode to tee
const BUILD_BOOT: readonly FieldSpec<BuildInfo>[] = [
  'defbool claim_mode', 'int event_channels', 'str kernel', 'str cmdline', 'str ramdisk', 'str device_tree', 'defbool acpi',
  'str bootloader', 'strings bootloader_args', 'enum timer_mode=unknown', 'defbool nested_hvm', 'defbool apic',
  'defbool dm_restrict', 'enum tee=none',
];

// libxl_domain_build_info_gen_json
export function buildInfoGenJson(g: Gen, d: DomainConfig): void {
  const b = d.b_info;
  fields(g, b, BUILD_HEAD);
  int(g, 'max_grant_frames', b.max_grant_frames, MAX_GRANT_DEFAULT);
  int(g, 'max_maptrack_frames', b.max_maptrack_frames, MAX_GRANT_DEFAULT);
  fields(g, b, BUILD_DM);
  const sp = b.sched_params;
  struct(g, 'sched_params', () => {
    for (const k of ['weight', 'cap', 'period', 'budget', 'extratime', 'slice', 'latency'] as const) int(g, k, sp[k], PARAM_DEFAULT);
  });
  if (b.ioports.length > 0) {
    g.string('ioports').arrayOpen();
    for (const p of b.ioports) element(g, () => fields(g, p, ['int first', 'int number']));
    g.arrayClose();
  }
  if (b.irqs.length > 0) {
    g.string('irqs').arrayOpen();
    for (const i of b.irqs) g.integer(i);
    g.arrayClose();
  }
  fields(g, b, BUILD_BOOT);
  const type = d.c_info.type;
  if (type === 'hvm') struct(g, 'type.hvm', () => hvmGenJson(g, b.hvm));
  else if (type === 'pv') struct(g, 'type.pv', () => fields(g, b.pv, ['defbool e820_host']));
  else if (type === 'pvh') struct(g, 'type.pvh', () => fields(g, b.pvh, ['defbool pvshim', 'str pvshim_path', 'str pvshim_cmdline', 'str pvshim_extra']));
  struct(g, 'arch_arm', () => fields(g, b, ['enum gic_version=default', 'enum vuart=unknown']));
  struct(g, 'arch_x86', () => fields(g, b, ['defbool msr_relaxed']));
  fields(g, b, ['enum altp2m=disabled', 'int vmtrace_buf_kb', 'defbool vpmu']);
}
