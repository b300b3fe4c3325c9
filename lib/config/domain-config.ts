/**
 * The part of libxl_domain_config (Xen 4.17 libxl_types.idl) that the supported xl.cfg keys
 * fill. Field names are libxl's, so the JSON form and the C structures read the same. Enums use
 * libxl's lower-case JSON names; defbools are `boolean | null` (null: "default").
 */

import type { Defbool, DeviceDisk } from '../disk/types.js';

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

export interface CreateInfo {
  type: DomainType;
  name: string | null;
  /** Lower-case canonical form; the nil UUID means "none". */
  uuid: string;
  run_hotplug_scripts: Defbool;
}

export interface VncInfo {
  enable: Defbool;
  listen: string | null;
  passwd: string | null;
  display: number;
  findunused: Defbool;
}

export interface SdlInfo {
  enable: Defbool;
  opengl: Defbool;
  display: string | null;
  xauthority: string | null;
}

export interface HvmBuildInfo {
  hdtype: HdType;
  nographic: Defbool;
  vga: { kind: VgaKind };
  vnc: VncInfo;
  keymap: string | null;
  sdl: SdlInfo;
  serial: string | null;
  boot: string | null;
  /** NULL-terminated in C: a non-string item ends the list. */
  serial_list: string[] | null;
}

export interface BuildInfo {
  max_vcpus: number;
  /** Indices of the set bits of the avail_vcpus bitmap. */
  avail_vcpus: number[];
  /** Whether the bitmap was allocated at all (`vcpus = 0` allocates one with no bit set). */
  avail_vcpus_allocated: boolean;
  max_memkb: bigint;
  target_memkb: bigint;
  video_memkb: bigint;
  device_model_version: DeviceModelVersion;
  device_model: string | null;
  claim_mode: Defbool;
  /** The guest kernel command line (xl's cmdline=, or root= and extra=). */
  cmdline: string | null;
  /** type.hvm; only HVM domains get this far in `xl create`. */
  hvm: HvmBuildInfo;
}

export interface DomainConfig {
  c_info: CreateInfo;
  b_info: BuildInfo;
  disks: DeviceDisk[];
  on_poweroff: ActionOnShutdown;
  on_reboot: ActionOnShutdown;
  on_watchdog: ActionOnShutdown;
  on_crash: ActionOnShutdown;
  on_soft_reset: ActionOnShutdown;
  /** Keys present in the file that colo-xl does not interpret (kept, reported, not dropped silently). */
  unsupported: { name: string; line: number }[];
}

export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

// libxl_domain_config_init + libxl_domain_build_info_init_type(HVM)
export function domainConfigInit(): DomainConfig {
  return {
    c_info: { type: 'invalid', name: null, uuid: NIL_UUID, run_hotplug_scripts: null },
    b_info: {
      max_vcpus: 0,
      avail_vcpus: [],
      avail_vcpus_allocated: false,
      max_memkb: MEMKB_DEFAULT,
      target_memkb: MEMKB_DEFAULT,
      video_memkb: MEMKB_DEFAULT,
      device_model_version: 'unknown',
      device_model: null,
      claim_mode: null,
      cmdline: null,
      hvm: {
        hdtype: 'ide',
        nographic: null,
        vga: { kind: 'unknown' },
        vnc: { enable: null, listen: null, passwd: null, display: 0, findunused: null },
        keymap: null,
        sdl: { enable: null, opengl: null, display: null, xauthority: null },
        serial: null,
        boot: null,
        serial_list: null,
      },
    },
    disks: [],
    on_poweroff: 'destroy',
    on_reboot: 'destroy',
    on_watchdog: 'destroy',
    on_crash: 'destroy',
    on_soft_reset: 'destroy',
    unsupported: [],
  };
}
