/**
 * Which xl.cfg keys Xen 4.17's parse_config_data reads, split into those colo-xl ports and those
 * it does not (yet). A file's key in neither list is one xl itself never reads: xl ignores it
 * without a word, and so does colo-xl.
 */

export const PORTED_KEYS = [
  'type', 'builder', 'hap', 'name', 'uuid', 'oos', 'pool', 'pvshim', 'pvshim_path', 'pvshim_cmdline', 'pvshim_extra',
  'cpu_weight', 'cap', 'period', 'slice', 'latency', 'extratime', 'memory', 'maxmem', 'vcpus', 'maxvcpus',
  'max_grant_frames', 'max_maptrack_frames', 'max_grant_version',
  'on_poweroff', 'on_reboot', 'on_watchdog', 'on_crash', 'on_soft_reset', 'e820_host',
  'passthrough', 'shadow_memory', 'nomigrate', 'tsc_mode', 'rtc_timeoffset', 'vncviewer', 'localtime', 'videoram',
  'max_event_channels', 'kernel', 'ramdisk', 'device_tree', 'cmdline', 'root', 'extra', 'driver_domain', 'acpi',
  'bootloader', 'bootloader_args', 'timer_mode', 'nestedhvm',
  'firmware_override', 'bios_path_override', 'bios', 'pae', 'acpi_s3', 'acpi_s4', 'acpi_laptop_slate', 'nx', 'hpet',
  'vpt_align', 'apic', 'viridian', 'mmio_hole', 'altp2mhvm', 'smbios_firmware', 'acpi_firmware', 'rdm_mem_boundary',
  'firmware', 'altp2m', 'vmtrace_buf_kb',
  'init_seclabel', 'seclabel', 'vuart', 'dtdev', 'ioports', 'irqs', 'mca_caps', 'device_model_stubdomain_seclabel',
  'gic_version', 'tee', 'ms_vm_genid', 'p9', 'vtpm', 'pvcalls',
  'disk', 'channel', 'vif', 'vif2', 'vfb', 'usbctrl', 'usbdev',
  'device_model', 'device_model_override', 'device_model_version', 'device_model_stubdomain_override',
  'device_model_user', 'stubdomain_kernel', 'stubdomain_cmdline', 'stubdomain_ramdisk', 'stubdomain_memory',
  'device_model_args', 'device_model_args_pv', 'device_model_args_hvm',
  'vnc', 'vnclisten', 'vncpasswd', 'vncdisplay', 'vncunused', 'sdl', 'opengl', 'display', 'xauthority', 'keymap',
  'dm_restrict', 'vga', 'stdvga', 'hdtype', 'spice', 'spiceport', 'spicetls_port', 'spicehost', 'spicedisable_ticketing',
  'spicepasswd', 'spiceagent_mouse', 'spicevdagent', 'spice_clipboard_sharing', 'spiceusbredirection',
  'spice_image_compression', 'spice_streaming_video', 'nographic', 'gfx_passthru', 'serial', 'boot', 'usb', 'usbversion',
  'usbdevice', 'vkb_device', 'soundhw', 'xen_platform_pci', 'vendor_device',
  'xend_suspend_evtchn_compat', 'msr_relaxed', 'vpmu',
] as const;

/** Read by xl, not ported: colo-xl names each one it meets instead of dropping it silently. */
export const UNPORTED_KEYS: ReadonlySet<string> = new Set([
  'vnuma', 'cpus', 'cpus_soft', 'pci_msitranslate', 'pci_power_mgmt', 'pci_permissive', 'pci_seize', 'rdm', 'pci',
  'iomem', 'vdispl', 'vsnd', 'cpuid', 'vkb',
]);
