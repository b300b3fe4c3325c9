/**
 * The part of libxl_domain_config (Xen 4.17 libxl_types.idl) that the supported xl.cfg keys
 * fill. Field names are libxl's, so the JSON form and the C structures read the same. Enums use
 * libxl's lower-case JSON names; defbools are `boolean | null` (null: "default"); integers that
 * the IDL initialises to a sentinel hold that sentinel until set.
 */

import type { Defbool, DeviceDisk } from './disk.js';
import type { DeviceChannel, DeviceNic, DeviceP9, DevicePvcallsif, DeviceUsbctrl, DeviceUsbdev, DeviceVfb, DeviceVkb, DeviceVtpm } from './devices.js';
import { sdlInfoInit, vncInfoInit, type SdlInfo, type VncInfo } from './display.js';

export type DomainType = 'invalid' | 'hvm' | 'pv' | 'pvh';

export const ACTIONS_ON_SHUTDOWN = [
  'destroy', 'restart', 'restart_rename', 'preserve', 'coredump_destroy', 'coredump_restart', 'soft_reset',
] as const;
export type ActionOnShutdown = (typeof ACTIONS_ON_SHUTDOWN)[number];

export type DeviceModelVersion = 'unknown' | 'qemu_xen_traditional' | 'qemu_xen';
export type VgaKind = 'unknown' | 'cirrus' | 'std' | 'none' | 'qxl';
export type HdType = 'ide' | 'ahci';

/** LIBXL_MEMKB_DEFAULT: ~0ULL. */
export const MEMKB_DEFAULT = 2n ** 64n - 1n;
/** LIBXL_MAX_GRANT_DEFAULT: ~(uint32_t)0 (as the int max_grant_version holds it: -1). */
export const MAX_GRANT_DEFAULT = 0xffffffff;
/** LIBXL_DOMAIN_SCHED_PARAM_*_DEFAULT and LIBXL_TIMER_MODE_DEFAULT. */
export const PARAM_DEFAULT = -1;

export interface CreateInfo {
  type: DomainType;
  hap: Defbool;
  oos: Defbool;
  ssid_label: string | null;
  name: string | null;
  /** Lower-case canonical form; the nil UUID means "none". */
  uuid: string;
  pool_name: string | null;
  run_hotplug_scripts: Defbool;
  driver_domain: Defbool;
  /** libxl_passthrough; 'default' is the IDL default. */
  passthrough: string;
  xend_suspend_evtchn_compat: Defbool;
}

export interface SpiceInfo {
  enable: Defbool;
  port: number;
  tls_port: number;
  host: string | null;
  disable_ticketing: Defbool;
  passwd: string | null;
  agent_mouse: Defbool;
  vdagent: Defbool;
  clipboard_sharing: Defbool;
  usbredirection: number;
  image_compression: string | null;
  streaming_video: string | null;
}

export interface HvmBuildInfo {
  firmware: string | null;
  /** libxl_bios_type; 'unknown' is the default. */
  bios: string;
  pae: Defbool;
  acpi_s3: Defbool;
  acpi_s4: Defbool;
  acpi_laptop_slate: Defbool;
  nx: Defbool;
  viridian: Defbool;
  /** Set bits of the 64-bit bitmaps, or null while unallocated. */
  viridian_enable: Set<number> | null;
  viridian_disable: Set<number> | null;
  hpet: Defbool;
  vpt_align: Defbool;
  mmio_hole_memkb: bigint;
  altp2m: Defbool;
  system_firmware: string | null;
  smbios_firmware: string | null;
  acpi_firmware: string | null;
  hdtype: HdType;
  nographic: Defbool;
  vga: { kind: VgaKind };
  vnc: VncInfo;
  keymap: string | null;
  sdl: SdlInfo;
  spice: SpiceInfo;
  gfx_passthru: Defbool;
  gfx_passthru_kind: string;
  serial: string | null;
  boot: string | null;
  usb: Defbool;
  usbversion: number;
  usbdevice: string | null;
  vkb_device: Defbool;
  soundhw: string | null;
  xen_platform_pci: Defbool;
  usbdevice_list: string[] | null;
  vendor_device: string;
  /** 16 bytes; all zero is "none". */
  ms_vm_genid: number[];
  /** NULL-terminated in C: a non-string item ends the list. */
  serial_list: string[] | null;
  rdm_mem_boundary_memkb: bigint;
  mca_caps: bigint;
}

export interface PvBuildInfo {
  e820_host: Defbool;
}

export interface PvhBuildInfo {
  pvshim: Defbool;
  pvshim_path: string | null;
  pvshim_cmdline: string | null;
  pvshim_extra: string | null;
}

/** libxl_domain_sched_params; -1 (PARAM_DEFAULT) is "not set". */
export interface SchedParams {
  weight: number;
  cap: number;
  period: number;
  budget: number;
  extratime: number;
  slice: number;
  latency: number;
}

export interface BuildInfo {
  max_vcpus: number;
  /** Indices of the set bits of the avail_vcpus bitmap. */
  avail_vcpus: number[];
  /** Whether the bitmap was allocated at all (`vcpus = 0` allocates one with no bit set). */
  avail_vcpus_allocated: boolean;
  tsc_mode: string;
  max_memkb: bigint;
  target_memkb: bigint;
  video_memkb: bigint;
  shadow_memkb: bigint;
  rtc_timeoffset: number;
  exec_ssid_label: string | null;
  localtime: Defbool;
  disable_migrate: Defbool;
  max_grant_frames: number;
  max_maptrack_frames: number;
  max_grant_version: number;
  device_model_version: DeviceModelVersion;
  device_model_stubdomain: Defbool;
  stubdomain_memkb: bigint;
  stubdomain_kernel: string | null;
  stubdomain_cmdline: string | null;
  stubdomain_ramdisk: string | null;
  device_model: string | null;
  device_model_ssid_label: string | null;
  device_model_user: string | null;
  /** device_model_args, _pv, _hvm (libxl_string_list: up to the first non-string item). */
  extra: string[] | null;
  extra_pv: string[] | null;
  extra_hvm: string[] | null;
  sched_params: SchedParams;
  ioports: { first: number; number: number }[];
  irqs: number[];
  claim_mode: Defbool;
  event_channels: number;
  kernel: string | null;
  /** The guest kernel command line (xl's cmdline=, or root= and extra=). */
  cmdline: string | null;
  ramdisk: string | null;
  device_tree: string | null;
  acpi: Defbool;
  bootloader: string | null;
  bootloader_args: string[] | null;
  timer_mode: string;
  nested_hvm: Defbool;
  apic: Defbool;
  dm_restrict: Defbool;
  /** libxl_tee_type; 'none' is the default. */
  tee: string;
  /** The union member for c_info.type; only that one reaches the JSON. */
  hvm: HvmBuildInfo;
  pv: PvBuildInfo;
  pvh: PvhBuildInfo;
  /** arch_arm: libxl_gic_version ('default') and libxl_vuart_type ('unknown'). */
  gic_version: string;
  vuart: string;
  msr_relaxed: Defbool;
  altp2m: string;
  vmtrace_buf_kb: number;
  vpmu: Defbool;
}

export interface DomainConfig {
  c_info: CreateInfo;
  b_info: BuildInfo;
  disks: DeviceDisk[];
  nics: DeviceNic[];
  /** libxl_device_dtdev paths */
  dtdevs: string[];
  vfbs: DeviceVfb[];
  vkbs: DeviceVkb[];
  vtpms: DeviceVtpm[];
  p9s: DeviceP9[];
  pvcallsifs: DevicePvcallsif[];
  channels: DeviceChannel[];
  usbctrls: DeviceUsbctrl[];
  usbdevs: DeviceUsbdev[];
  on_poweroff: ActionOnShutdown;
  on_reboot: ActionOnShutdown;
  on_watchdog: ActionOnShutdown;
  on_crash: ActionOnShutdown;
  on_soft_reset: ActionOnShutdown;
  /** Keys xl reads that colo-xl does not port (kept, reported, not dropped silently). */
  unsupported: { name: string; line: number }[];
  /** Every key of the file that xl reads and colo-xl ports, where it is set (for converters). */
  read: { name: string; line: number }[];
}

export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

function hvmInit(): HvmBuildInfo {
  return {
    firmware: null, bios: 'unknown', pae: null, acpi_s3: null, acpi_s4: null, acpi_laptop_slate: null, nx: null,
    viridian: null, viridian_enable: null, viridian_disable: null, hpet: null, vpt_align: null, mmio_hole_memkb: MEMKB_DEFAULT,
    altp2m: null, system_firmware: null, smbios_firmware: null, acpi_firmware: null,
    hdtype: 'ide',
    nographic: null,
    vga: { kind: 'unknown' },
    vnc: vncInfoInit(),
    keymap: null,
    sdl: sdlInfoInit(),
    spice: {
      enable: null, port: 0, tls_port: 0, host: null, disable_ticketing: null, passwd: null, agent_mouse: null,
      vdagent: null, clipboard_sharing: null, usbredirection: 0, image_compression: null, streaming_video: null,
    },
    gfx_passthru: null, gfx_passthru_kind: 'default',
    serial: null,
    boot: null,
    usb: null, usbversion: 0, usbdevice: null, vkb_device: null, soundhw: null, xen_platform_pci: null,
    usbdevice_list: null, vendor_device: 'none', ms_vm_genid: new Array<number>(16).fill(0),
    serial_list: null,
    rdm_mem_boundary_memkb: MEMKB_DEFAULT, mca_caps: 0n,
  };
}

// libxl_domain_config_init + libxl_domain_build_info_init_type
export function domainConfigInit(): DomainConfig {
  const D = PARAM_DEFAULT;
  return {
    c_info: {
      type: 'invalid', hap: null, oos: null, ssid_label: null, name: null, uuid: NIL_UUID, pool_name: null, run_hotplug_scripts: null,
      driver_domain: null, passthrough: 'default', xend_suspend_evtchn_compat: null,
    },
    b_info: {
      max_vcpus: 0,
      avail_vcpus: [],
      avail_vcpus_allocated: false,
      tsc_mode: 'default',
      max_memkb: MEMKB_DEFAULT,
      target_memkb: MEMKB_DEFAULT,
      video_memkb: MEMKB_DEFAULT,
      shadow_memkb: MEMKB_DEFAULT,
      rtc_timeoffset: 0,
      exec_ssid_label: null,
      localtime: null,
      disable_migrate: null,
      max_grant_frames: MAX_GRANT_DEFAULT,
      max_maptrack_frames: MAX_GRANT_DEFAULT,
      max_grant_version: -1,
      device_model_version: 'unknown',
      device_model_stubdomain: null,
      stubdomain_memkb: MEMKB_DEFAULT,
      stubdomain_kernel: null,
      stubdomain_cmdline: null,
      stubdomain_ramdisk: null,
      device_model: null,
      device_model_ssid_label: null,
      device_model_user: null,
      extra: null,
      extra_pv: null,
      extra_hvm: null,
      sched_params: { weight: D, cap: D, period: D, budget: D, extratime: D, slice: D, latency: D },
      ioports: [],
      irqs: [],
      claim_mode: null,
      event_channels: 0,
      kernel: null,
      cmdline: null,
      ramdisk: null,
      device_tree: null,
      acpi: null,
      bootloader: null,
      bootloader_args: null,
      timer_mode: 'unknown',
      nested_hvm: null,
      apic: null,
      dm_restrict: null,
      tee: 'none',
      hvm: hvmInit(),
      pv: { e820_host: null },
      pvh: { pvshim: null, pvshim_path: null, pvshim_cmdline: null, pvshim_extra: null },
      gic_version: 'default',
      vuart: 'unknown',
      msr_relaxed: null,
      altp2m: 'disabled',
      vmtrace_buf_kb: 0,
      vpmu: null,
    },
    disks: [],
    nics: [],
    dtdevs: [],
    vfbs: [],
    vkbs: [],
    vtpms: [],
    p9s: [],
    pvcallsifs: [],
    channels: [],
    usbctrls: [],
    usbdevs: [],
    on_poweroff: 'destroy',
    on_reboot: 'destroy',
    on_watchdog: 'destroy',
    on_crash: 'destroy',
    on_soft_reset: 'destroy',
    unsupported: [],
    read: [],
  };
}
