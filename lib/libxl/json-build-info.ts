/** libxl_domain_build_info_gen_json (Xen 4.17 IDL order), with the union for the domain's type. */

import { MAX_GRANT_DEFAULT, PARAM_DEFAULT, type DomainConfig, type HvmBuildInfo } from './types/domain-config.js';
import { sdlGenJson, vncGenJson } from './json.js';
import { bitmap, defbool, element, enumv, int, memkb, str, stringList, struct, type Gen } from './json-fields.js';

function hvmGenJson(g: Gen, h: HvmBuildInfo): void {
  str(g, 'firmware', h.firmware);
  enumv(g, 'bios', h.bios, 'unknown');
  defbool(g, 'pae', h.pae);
  defbool(g, 'acpi_s3', h.acpi_s3);
  defbool(g, 'acpi_s4', h.acpi_s4);
  defbool(g, 'acpi_laptop_slate', h.acpi_laptop_slate);
  defbool(g, 'nx', h.nx);
  defbool(g, 'viridian', h.viridian);
  bitmap(g, 'viridian_enable', h.viridian_enable);
  bitmap(g, 'viridian_disable', h.viridian_disable);
  defbool(g, 'hpet', h.hpet);
  defbool(g, 'vpt_align', h.vpt_align);
  memkb(g, 'mmio_hole_memkb', h.mmio_hole_memkb);
  defbool(g, 'altp2m', h.altp2m);
  str(g, 'system_firmware', h.system_firmware);
  str(g, 'smbios_firmware', h.smbios_firmware);
  str(g, 'acpi_firmware', h.acpi_firmware);
  enumv(g, 'hdtype', h.hdtype, 'ide');
  defbool(g, 'nographic', h.nographic);
  struct(g, 'vga', () => enumv(g, 'kind', h.vga.kind, 'unknown'));
  struct(g, 'vnc', () => vncGenJson(g, h.vnc));
  str(g, 'keymap', h.keymap);
  struct(g, 'sdl', () => sdlGenJson(g, h.sdl));
  const s = h.spice;
  struct(g, 'spice', () => {
    defbool(g, 'enable', s.enable);
    int(g, 'port', s.port);
    int(g, 'tls_port', s.tls_port);
    str(g, 'host', s.host);
    defbool(g, 'disable_ticketing', s.disable_ticketing);
    str(g, 'passwd', s.passwd);
    defbool(g, 'agent_mouse', s.agent_mouse);
    defbool(g, 'vdagent', s.vdagent);
    defbool(g, 'clipboard_sharing', s.clipboard_sharing);
    int(g, 'usbredirection', s.usbredirection);
    str(g, 'image_compression', s.image_compression);
    str(g, 'streaming_video', s.streaming_video);
  });
  defbool(g, 'gfx_passthru', h.gfx_passthru);
  enumv(g, 'gfx_passthru_kind', h.gfx_passthru_kind, 'default');
  str(g, 'serial', h.serial);
  str(g, 'boot', h.boot);
  defbool(g, 'usb', h.usb);
  int(g, 'usbversion', h.usbversion);
  str(g, 'usbdevice', h.usbdevice);
  defbool(g, 'vkb_device', h.vkb_device);
  str(g, 'soundhw', h.soundhw);
  defbool(g, 'xen_platform_pci', h.xen_platform_pci);
  stringList(g, 'usbdevice_list', h.usbdevice_list);
  enumv(g, 'vendor_device', h.vendor_device, 'none');
  if (h.ms_vm_genid.some((b) => b !== 0)) {
    g.string('ms_vm_genid').arrayOpen();
    for (const b of h.ms_vm_genid) g.integer(b);
    g.arrayClose();
  }
  stringList(g, 'serial_list', h.serial_list);
  struct(g, 'rdm', () => undefined);
  memkb(g, 'rdm_mem_boundary_memkb', h.rdm_mem_boundary_memkb);
  int(g, 'mca_caps', h.mca_caps);
}

// libxl_domain_build_info_gen_json
export function buildInfoGenJson(g: Gen, d: DomainConfig): void {
  const b = d.b_info;
  int(g, 'max_vcpus', b.max_vcpus);
  bitmap(g, 'avail_vcpus', b.avail_vcpus);
  enumv(g, 'tsc_mode', b.tsc_mode, 'default');
  memkb(g, 'max_memkb', b.max_memkb);
  memkb(g, 'target_memkb', b.target_memkb);
  memkb(g, 'video_memkb', b.video_memkb);
  memkb(g, 'shadow_memkb', b.shadow_memkb);
  int(g, 'rtc_timeoffset', b.rtc_timeoffset);
  str(g, 'exec_ssid_label', b.exec_ssid_label);
  defbool(g, 'localtime', b.localtime);
  defbool(g, 'disable_migrate', b.disable_migrate);
  int(g, 'max_grant_frames', b.max_grant_frames, MAX_GRANT_DEFAULT);
  int(g, 'max_maptrack_frames', b.max_maptrack_frames, MAX_GRANT_DEFAULT);
  int(g, 'max_grant_version', b.max_grant_version, -1);
  enumv(g, 'device_model_version', b.device_model_version, 'unknown');
  defbool(g, 'device_model_stubdomain', b.device_model_stubdomain);
  memkb(g, 'stubdomain_memkb', b.stubdomain_memkb);
  str(g, 'stubdomain_kernel', b.stubdomain_kernel);
  str(g, 'stubdomain_cmdline', b.stubdomain_cmdline);
  str(g, 'stubdomain_ramdisk', b.stubdomain_ramdisk);
  str(g, 'device_model', b.device_model);
  str(g, 'device_model_ssid_label', b.device_model_ssid_label);
  str(g, 'device_model_user', b.device_model_user);
  stringList(g, 'extra', b.extra);
  stringList(g, 'extra_pv', b.extra_pv);
  stringList(g, 'extra_hvm', b.extra_hvm);
  const sp = b.sched_params;
  struct(g, 'sched_params', () => {
    for (const k of ['weight', 'cap', 'period', 'budget', 'extratime', 'slice', 'latency'] as const) int(g, k, sp[k], PARAM_DEFAULT);
  });
  if (b.ioports.length > 0) {
    g.string('ioports').arrayOpen();
    for (const p of b.ioports) element(g, () => { int(g, 'first', p.first); int(g, 'number', p.number); });
    g.arrayClose();
  }
  if (b.irqs.length > 0) {
    g.string('irqs').arrayOpen();
    for (const i of b.irqs) g.integer(i);
    g.arrayClose();
  }
  defbool(g, 'claim_mode', b.claim_mode);
  int(g, 'event_channels', b.event_channels);
  str(g, 'kernel', b.kernel);
  str(g, 'cmdline', b.cmdline);
  str(g, 'ramdisk', b.ramdisk);
  str(g, 'device_tree', b.device_tree);
  defbool(g, 'acpi', b.acpi);
  str(g, 'bootloader', b.bootloader);
  stringList(g, 'bootloader_args', b.bootloader_args);
  enumv(g, 'timer_mode', b.timer_mode, 'unknown');
  defbool(g, 'nested_hvm', b.nested_hvm);
  defbool(g, 'apic', b.apic);
  defbool(g, 'dm_restrict', b.dm_restrict);
  enumv(g, 'tee', b.tee, 'none');
  const type = d.c_info.type;
  if (type === 'hvm') struct(g, 'type.hvm', () => hvmGenJson(g, b.hvm));
  else if (type === 'pv') struct(g, 'type.pv', () => defbool(g, 'e820_host', b.pv.e820_host));
  else if (type === 'pvh') {
    struct(g, 'type.pvh', () => {
      defbool(g, 'pvshim', b.pvh.pvshim);
      str(g, 'pvshim_path', b.pvh.pvshim_path);
      str(g, 'pvshim_cmdline', b.pvh.pvshim_cmdline);
      str(g, 'pvshim_extra', b.pvh.pvshim_extra);
    });
  }
  struct(g, 'arch_arm', () => {
    enumv(g, 'gic_version', b.gic_version, 'default');
    enumv(g, 'vuart', b.vuart, 'unknown');
  });
  struct(g, 'arch_x86', () => defbool(g, 'msr_relaxed', b.msr_relaxed));
  enumv(g, 'altp2m', b.altp2m, 'disabled');
  int(g, 'vmtrace_buf_kb', b.vmtrace_buf_kb);
  defbool(g, 'vpmu', b.vpmu);
}
