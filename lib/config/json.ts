/**
 * libxl_domain_config_to_json for a yajl build of Xen 4.17 (what `xl -N create` prints): fields
 * in IDL order, each omitted at its IDL default, nested structs always present, the build-info
 * union under the key "type.hvm".
 */

import { diskJsonFields } from '../disk/json.js';
import type { DeviceDisk } from '../disk/types.js';
import { YajlGen } from '../json/yajl.js';
import { MEMKB_DEFAULT, NIL_UUID, type ActionOnShutdown, type DomainConfig } from './domain-config.js';

type Gen = YajlGen;

function str(g: Gen, key: string, v: string | null): void {
  if (v !== null) g.string(key).string(v);
}
function int(g: Gen, key: string, v: number | bigint): void {
  if (v !== 0 && v !== 0n) g.string(key).integer(v);
}
function defbool(g: Gen, key: string, v: boolean | null): void {
  if (v !== null) g.string(key).defbool(v);
}
function memkb(g: Gen, key: string, v: bigint): void {
  if (v !== MEMKB_DEFAULT) g.string(key).integer(v);
}
function action(g: Gen, key: string, v: ActionOnShutdown): void {
  if (v !== 'destroy') g.string(key).string(v);
}
function emptyMap(g: Gen, key: string): void {
  g.string(key).mapOpen().mapClose();
}

// libxl_device_disk_gen_json, inside a larger document.
export function deviceDiskGenJson(g: Gen, disk: DeviceDisk): void {
  g.mapOpen();
  for (const [k, v] of diskJsonFields(disk)) g.string(k).raw(v);
  g.mapClose();
}

// libxl_domain_config_gen_json
export function domainConfigGenJson(g: Gen, d: DomainConfig): void {
  const { c_info: c, b_info: b } = d;
  g.mapOpen();

  g.string('c_info').mapOpen();
  if (c.type !== 'invalid') g.string('type').string(c.type);
  str(g, 'name', c.name);
  if (c.uuid !== NIL_UUID) g.string('uuid').string(c.uuid);
  defbool(g, 'run_hotplug_scripts', c.run_hotplug_scripts);
  g.mapClose();

  g.string('b_info').mapOpen();
  int(g, 'max_vcpus', b.max_vcpus);
  if (b.avail_vcpus.length > 0) {
    g.string('avail_vcpus').arrayOpen();
    for (const i of b.avail_vcpus) g.integer(i);
    g.arrayClose();
  }
  memkb(g, 'max_memkb', b.max_memkb);
  memkb(g, 'target_memkb', b.target_memkb);
  memkb(g, 'video_memkb', b.video_memkb);
  if (b.device_model_version !== 'unknown') g.string('device_model_version').string(b.device_model_version);
  str(g, 'device_model', b.device_model);
  emptyMap(g, 'sched_params');
  defbool(g, 'claim_mode', b.claim_mode);
  str(g, 'cmdline', b.cmdline);
  if (d.c_info.type === 'hvm') {
    const h = b.hvm;
    g.string('type.hvm').mapOpen();
    if (h.hdtype !== 'ide') g.string('hdtype').string(h.hdtype);
    defbool(g, 'nographic', h.nographic);
    g.string('vga').mapOpen();
    if (h.vga.kind !== 'unknown') g.string('kind').string(h.vga.kind);
    g.mapClose();
    g.string('vnc').mapOpen();
    defbool(g, 'enable', h.vnc.enable);
    str(g, 'listen', h.vnc.listen);
    str(g, 'passwd', h.vnc.passwd);
    int(g, 'display', h.vnc.display);
    defbool(g, 'findunused', h.vnc.findunused);
    g.mapClose();
    str(g, 'keymap', h.keymap);
    g.string('sdl').mapOpen();
    defbool(g, 'enable', h.sdl.enable);
    defbool(g, 'opengl', h.sdl.opengl);
    str(g, 'display', h.sdl.display);
    str(g, 'xauthority', h.sdl.xauthority);
    g.mapClose();
    emptyMap(g, 'spice');
    str(g, 'serial', h.serial);
    str(g, 'boot', h.boot);
    if (h.serial_list && h.serial_list.length > 0) {
      g.string('serial_list').arrayOpen();
      for (const s of h.serial_list) g.string(s);
      g.arrayClose();
    }
    emptyMap(g, 'rdm');
    g.mapClose();
  }
  emptyMap(g, 'arch_arm');
  emptyMap(g, 'arch_x86');
  g.mapClose();

  if (d.disks.length > 0) {
    g.string('disks').arrayOpen();
    for (const disk of d.disks) deviceDiskGenJson(g, disk);
    g.arrayClose();
  }
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
