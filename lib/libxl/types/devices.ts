/**
 * The devices of libxl_domain_config that xl.cfg lists fill besides disks (Xen 4.17
 * libxl_types.idl): libxl_device_nic, _vfb, _vkb, _channel, _usbctrl, _usbdev, _p9, _vtpm,
 * _pvcallsif, with their IDL defaults.
 */

import type { Defbool } from './disk.js';
import { sdlInfoInit, vncInfoInit, type SdlInfo, type VncInfo } from './display.js';

/** The string fields of libxl_device_nic from `gatewaydev` on, in IDL order (the COLO ones included). */
export const NIC_TAIL_FIELDS = [
  'gatewaydev', 'coloft_forwarddev',
  'colo_sock_mirror_id', 'colo_sock_mirror_ip', 'colo_sock_mirror_port',
  'colo_sock_compare_pri_in_id', 'colo_sock_compare_pri_in_ip', 'colo_sock_compare_pri_in_port',
  'colo_sock_compare_sec_in_id', 'colo_sock_compare_sec_in_ip', 'colo_sock_compare_sec_in_port',
  'colo_sock_compare_notify_id', 'colo_sock_compare_notify_ip', 'colo_sock_compare_notify_port',
  'colo_sock_redirector0_id', 'colo_sock_redirector0_ip', 'colo_sock_redirector0_port',
  'colo_sock_redirector1_id', 'colo_sock_redirector1_ip', 'colo_sock_redirector1_port',
  'colo_sock_redirector2_id', 'colo_sock_redirector2_ip', 'colo_sock_redirector2_port',
  'colo_filter_mirror_queue', 'colo_filter_mirror_outdev',
  'colo_filter_redirector0_queue', 'colo_filter_redirector0_indev', 'colo_filter_redirector0_outdev',
  'colo_filter_redirector1_queue', 'colo_filter_redirector1_indev', 'colo_filter_redirector1_outdev',
  'colo_compare_pri_in', 'colo_compare_sec_in', 'colo_compare_out', 'colo_compare_notify_dev',
  'colo_sock_sec_redirector0_id', 'colo_sock_sec_redirector0_ip', 'colo_sock_sec_redirector0_port',
  'colo_sock_sec_redirector1_id', 'colo_sock_sec_redirector1_ip', 'colo_sock_sec_redirector1_port',
  'colo_filter_sec_redirector0_queue', 'colo_filter_sec_redirector0_indev', 'colo_filter_sec_redirector0_outdev',
  'colo_filter_sec_redirector1_queue', 'colo_filter_sec_redirector1_indev', 'colo_filter_sec_redirector1_outdev',
  'colo_filter_sec_rewriter0_queue', 'colo_checkpoint_host', 'colo_checkpoint_port',
] as const;
export type NicTailField = (typeof NIC_TAIL_FIELDS)[number];

export type NicType = 'unknown' | 'vif_ioemu' | 'vif';

export interface DeviceNic {
  backend_domname: string | null;
  /** libxl_devid: -1 is the default (and is what a devid of 2^32-1 becomes). */
  devid: number;
  mtu: number;
  model: string | null;
  /** Six octets; all zero is the default. */
  mac: number[];
  ip: string | null;
  bridge: string | null;
  ifname: string | null;
  script: string | null;
  nictype: NicType;
  rate_bytes_per_interval: bigint;
  rate_interval_usecs: number;
  tail: Partial<Record<NicTailField, string>>;
  trusted: Defbool;
}

export interface DeviceVfb {
  devid: number;
  vnc: VncInfo;
  sdl: SdlInfo;
  keymap: string | null;
}

export interface DeviceVkb {
  devid: number;
}

export interface DeviceP9 {
  backend_domname: string | null;
  tag: string | null;
  path: string | null;
  security_model: string | null;
}

export interface DeviceVtpm {
  backend_domname: string | null;
  devid: number;
  uuid: string | null;
}

export interface DevicePvcallsif {
  backend_domname: string | null;
  devid: number;
}

export interface DeviceChannel {
  backend_domname: string | null;
  devid: number;
  name: string | null;
  connection: 'unknown' | 'pty' | 'socket';
  /** u.socket.path */
  path: string | null;
}

export interface DeviceUsbctrl {
  /** libxl_usbctrl_type; 'auto' is the default. */
  type: string;
  devid: number;
  version: number;
  ports: number;
}

export interface DeviceUsbdev {
  /** libxl_devid: -1 is the default. */
  ctrl: number;
  port: number;
  /** libxl_usbdev_type: only hostdev exists; null until type= names it. */
  type: 'hostdev' | null;
  hostbus: number;
  hostaddr: number;
}

// libxl_device_nic_init
export function deviceNicInit(devid: number): DeviceNic {
  return {
    backend_domname: null, devid, mtu: 0, model: null, mac: [0, 0, 0, 0, 0, 0], ip: null, bridge: null, ifname: null,
    script: null, nictype: 'unknown', rate_bytes_per_interval: 0n, rate_interval_usecs: 0, tail: {}, trusted: null,
  };
}

// libxl_device_vfb_init
export function deviceVfbInit(devid: number): DeviceVfb {
  return { devid, vnc: vncInfoInit(), sdl: sdlInfoInit(), keymap: null };
}

// libxl_device_channel_init
export function deviceChannelInit(devid: number): DeviceChannel {
  return { backend_domname: null, devid, name: null, connection: 'unknown', path: null };
}
