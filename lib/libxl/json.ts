/**
 * libxl_domain_config_to_json for a yajl build of Xen 4.17 (what `xl -N create` prints): fields
 * in IDL order, each omitted at its IDL default, nested structs always present, the build-info
 * union under "type.<kind>".
 */

import { diskJsonFields } from './json-disk.js';
import type { DeviceDisk } from './types/disk.js';
import { YajlGen } from '../json/yajl.js';
import type { DeviceChannel, DeviceNic, DeviceUsbctrl, DeviceUsbdev, DeviceVfb } from './types/devices.js';
import { NIC_TAIL_FIELDS } from './types/devices.js';
import { NIL_UUID, type ActionOnShutdown, type DomainConfig } from './types/domain-config.js';
import { sdlGenJson, vncGenJson } from './json-display.js';
import { buildInfoGenJson } from './json-build-info.js';
import { defbool, element, enumv, fields, int, str, struct, type FieldSpec, type Gen } from './json-fields.js';

function action(g: Gen, key: string, v: ActionOnShutdown): void {
  if (v !== 'destroy') g.string(key).string(v);
}

// libxl_device_disk_gen_json, inside a larger document.
export function deviceDiskGenJson(g: Gen, disk: DeviceDisk): void {
  g.mapOpen();
  for (const [k, v] of diskJsonFields(disk)) g.string(k).raw(v);
  g.mapClose();
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

const NIC_AFTER_MAC: readonly FieldSpec<DeviceNic>[] = [
  'str ip', 'str bridge', 'str ifname', 'str script', 'enum nictype=unknown', 'int rate_bytes_per_interval', 'int rate_interval_usecs',
];

// libxl_device_nic_gen_json
function nicGenJson(g: Gen, n: DeviceNic): void {
  g.mapOpen();
  fields(g, n, ['str backend_domname', 'int devid=-1', 'int mtu', 'str model']);
  if (n.mac.some((o) => o !== 0)) g.string('mac').string(n.mac.map(hex2).join(':'));
  fields(g, n, NIC_AFTER_MAC);
  for (const f of NIC_TAIL_FIELDS) str(g, f, n.tail[f] ?? null);
  defbool(g, 'trusted', n.trusted);
  g.mapClose();
}

// libxl_device_vfb_gen_json
function vfbGenJson(g: Gen, v: DeviceVfb): void {
  g.mapOpen();
  int(g, 'devid', v.devid, -1);
  struct(g, 'vnc', () => vncGenJson(g, v.vnc));
  struct(g, 'sdl', () => sdlGenJson(g, v.sdl));
  str(g, 'keymap', v.keymap);
  g.mapClose();
}

// libxl_device_channel_gen_json
function channelGenJson(g: Gen, c: DeviceChannel): void {
  g.mapOpen();
  str(g, 'backend_domname', c.backend_domname);
  int(g, 'devid', c.devid, -1);
  str(g, 'name', c.name);
  if (c.connection !== 'unknown') {
    struct(g, `connection.${c.connection}`, () => {
      if (c.connection === 'socket') str(g, 'path', c.path);
    });
  }
  g.mapClose();
}

// libxl_device_usbctrl_gen_json
function usbctrlGenJson(g: Gen, c: DeviceUsbctrl): void {
  g.mapOpen();
  enumv(g, 'type', c.type, 'auto');
  int(g, 'devid', c.devid, -1);
  int(g, 'version', c.version);
  int(g, 'ports', c.ports);
  g.mapClose();
}

// libxl_device_usbdev_gen_json
function usbdevGenJson(g: Gen, u: DeviceUsbdev): void {
  g.mapOpen();
  int(g, 'ctrl', u.ctrl, -1);
  int(g, 'port', u.port);
  if (u.type === 'hostdev') {
    struct(g, 'type.hostdev', () => {
      int(g, 'hostbus', u.hostbus);
      int(g, 'hostaddr', u.hostaddr);
    });
  }
  g.mapClose();
}

function array<T>(g: Gen, key: string, items: T[], each: (item: T) => void): void {
  if (items.length === 0) return;
  g.string(key).arrayOpen();
  for (const i of items) each(i);
  g.arrayClose();
}

// libxl_domain_config_gen_json
export function domainConfigGenJson(g: Gen, d: DomainConfig): void {
  const c = d.c_info;
  g.mapOpen();
  struct(g, 'c_info', () => {
    fields(g, c, ['enum type=invalid', 'defbool hap', 'defbool oos', 'str ssid_label', 'str name']);
    if (c.uuid !== NIL_UUID) g.string('uuid').string(c.uuid);
    fields(g, c, ['str pool_name', 'defbool run_hotplug_scripts', 'defbool driver_domain', 'enum passthrough=default', 'defbool xend_suspend_evtchn_compat']);
  });
  struct(g, 'b_info', () => buildInfoGenJson(g, d));
  array(g, 'disks', d.disks, (x) => deviceDiskGenJson(g, x));
  array(g, 'nics', d.nics, (x) => nicGenJson(g, x));
  array(g, 'dtdevs', d.dtdevs, (x) => element(g, () => str(g, 'path', x)));
  array(g, 'vfbs', d.vfbs, (x) => vfbGenJson(g, x));
  array(g, 'vkbs', d.vkbs, (x) => {
    g.mapOpen();
    int(g, 'devid', x.devid, -1);
    g.mapClose();
  });
  array(g, 'vtpms', d.vtpms, (x) => element(g, () => {
    str(g, 'backend_domname', x.backend_domname);
    int(g, 'devid', x.devid, -1);
    if (x.uuid !== null && x.uuid !== NIL_UUID) g.string('uuid').string(x.uuid);
  }));
  array(g, 'p9s', d.p9s, (x) => element(g, () => fields(g, x, ['str backend_domname', 'str tag', 'str path', 'str security_model'])));
  array(g, 'pvcallsifs', d.pvcallsifs, (x) => element(g, () => {
    str(g, 'backend_domname', x.backend_domname);
    int(g, 'devid', x.devid, -1);
  }));
  array(g, 'channels', d.channels, (x) => channelGenJson(g, x));
  array(g, 'usbctrls', d.usbctrls, (x) => usbctrlGenJson(g, x));
  array(g, 'usbdevs', d.usbdevs, (x) => usbdevGenJson(g, x));
  action(g, 'on_poweroff', d.on_poweroff);
  action(g, 'on_reboot', d.on_reboot);
  action(g, 'on_watchdog', d.on_watchdog);
  action(g, 'on_crash', d.on_crash);
  action(g, 'on_soft_reset', d.on_soft_reset);
  g.mapClose();
}

// libxl_domain_config_to_json
export function domainConfigToJson(d: DomainConfig): string {
  const g = new YajlGen();
  domainConfigGenJson(g, d);
  return g.result();
}
