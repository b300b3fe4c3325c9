/**
 * libxl__build_device_model_args_new (libxl_dm.c, Xen 4.17) for a local qemu-xen serving an HVM
 * guest, for what the supported xl.cfg keys can configure: QMP sockets, display (VNC/SDL),
 * serial, VGA, boot order, vCPUs, the emulated NICs (nic-args.ts), machine, memory and the disks
 * (disk-args.ts). Channels, USB, sound, spice, PCI passthrough and extra arguments are not
 * passed on: a config that sets them gets a warning naming each (ignoredSettings).
 */
import type { DomainConfig } from '../types/domain-config.js';
import type { DeviceDisk } from '../types/disk.js';
import { domainBuildInfoSetdefault } from './build-info.js';
import { ERROR_INVAL, LibxlError } from '../errors.js';
import { buildDiskArgs, scsiControllerArgs } from './disk-args.js';
import { buildNicArgs, deviceNicSetdefaultHvm, type RandomBytes } from './nic-args.js';
import { qemuOptValue } from './qemu-opts.js';

/** Debian's QEMU_XEN_PATH for Xen 4.17 (qemu-system-xen). */
export const DEFAULT_QEMU_XEN = '/usr/libexec/xen-qemu-system-i386';
export const XEN_RUN_DIR = '/var/run/xen';

export interface DeviceModelOptions {
  domid: number;
  /** The QMP socket libxl pre-opened and passes as a descriptor; unset: the socket path form. */
  monitorFd?: number;
  /** Restoring: the descriptor QEMU reads its saved state from (`-incoming fd:N`). */
  savedStateFd?: number;
  runDir?: string;
  /** Where libxl__device_nic_setdefault draws a MAC for a NIC without one; tests pin it. */
  randomBytes?: RandomBytes;
}

export interface DeviceModelArgs {
  args: string[];
  /** Environment pairs in the order libxl adds them. */
  env: [string, string][];
  warnings: string[];
}

// libxl__sizekb_to_mb
const sizekbToMb = (kb: bigint): bigint => (BigInt.asUintN(64, kb) + 1023n) / 1024n;

/**
 * The argv (argv[0] is the device model binary) and environment for the guest's QEMU. `disks`
 * are the config's disks after libxl__device_disk_setdefault.
 */
// libxl__build_device_model_args_new
export function buildDeviceModelArgsNew(d: DomainConfig, disks: readonly DeviceDisk[], opts: DeviceModelOptions): DeviceModelArgs {
  if (d.c_info.type !== 'hvm') throw new LibxlError(ERROR_INVAL, 'colo-xl builds device-model arguments for HVM guests only');
  const b = domainBuildInfoSetdefault(d);
  if (b.deviceModelVersion !== 'qemu_xen') {
    throw new LibxlError(ERROR_INVAL, 'colo-xl builds arguments for qemu-xen only, not qemu-xen-traditional');
  }
  const runDir = opts.runDir ?? XEN_RUN_DIR;
  const domid = opts.domid;
  const h = d.b_info.hvm;
  const args: string[] = [d.b_info.device_model ?? DEFAULT_QEMU_XEN, '-xen-domid', String(domid), '-no-shutdown'];
  const env: [string, string][] = [['XEN_QEMU_CONSOLE_LIMIT', '1048576']];

  args.push('-chardev');
  if (opts.monitorFd !== undefined) args.push(`socket,id=libxl-cmd,fd=${opts.monitorFd},server=on,wait=off`, '-S');
  else args.push(`socket,id=libxl-cmd,path=${runDir}/qmp-libxl-${domid},server=on,wait=off`);
  args.push('-mon', 'chardev=libxl-cmd,mode=control');
  args.push('-chardev', `socket,id=libxenstat-cmd,path=${runDir}/qmp-libxenstat-${domid},server=on,wait=off`);
  args.push('-mon', 'chardev=libxenstat-cmd,mode=control');
  args.push('-nodefaults', '-no-user-config');
  if (d.c_info.name !== null) args.push('-name', qemuOptValue(d.c_info.name));

  const vnc = b.vnc.enable ? b.vnc : null;
  const sdl = b.sdl.enable ? b.sdl : null;
  if (vnc) {
    let arg: string;
    if (vnc.listen !== null) {
      if (vnc.listen.includes(':')) {
        if (vnc.display) throw new LibxlError(ERROR_INVAL, 'vncdisplay set, vnclisten contains display');
        arg = qemuOptValue(vnc.listen);
      } else arg = `${qemuOptValue(vnc.listen)}:${vnc.display}`;
    } else arg = `127.0.0.1:${vnc.display}`;
    if (vnc.passwd) arg += ',password=on';
    if (vnc.findunused) arg += ',to=99';
    args.push('-vnc', arg);
  } else {
    args.push('-vnc', 'none');
  }
  args.push('-display', 'none');
  if (sdl) {
    args.push('-sdl');
    if (sdl.display !== null) env.push(['DISPLAY', sdl.display]);
    if (sdl.xauthority !== null) env.push(['XAUTHORITY', sdl.xauthority]);
  }
  if (h.keymap !== null) args.push('-k', h.keymap);
  // libxl_dm.c:libxl__build_device_model_args_new passes an HVM cmdline on (QEMU refuses it without -kernel).
  if (d.b_info.cmdline !== null) args.push('-append', d.b_info.cmdline);

  args.push(...scsiControllerArgs(disks));
  if (h.serial !== null && h.serial_list !== null) throw new LibxlError(ERROR_INVAL, 'Both serial and serial_list set');
  if (h.serial !== null) args.push('-serial', h.serial);
  for (const s of h.serial_list ?? []) args.push('-serial', s);
  if (b.nographic && !sdl && !vnc) args.push('-nographic');
  const mb = sizekbToMb(b.videoMemkb);
  if (b.vgaKind === 'std') args.push('-device', `VGA,vgamem_mb=${mb}`);
  else if (b.vgaKind === 'cirrus') args.push('-device', `cirrus-vga,vgamem_mb=${mb}`);
  else if (b.vgaKind === 'qxl') {
    const half = b.videoMemkb / 2n / 1024n;
    args.push('-device', `qxl-vga,vram_size_mb=${half},ram_size_mb=${half}`);
  }
  args.push('-boot', `order=${b.boot}`);
  if (b.maxVcpus > 1) args.push('-smp', `${b.availVcpus.length},maxcpus=${b.maxVcpus}`);
  const nics = d.nics.map((n) => deviceNicSetdefaultHvm(n, opts.randomBytes));
  args.push(...buildNicArgs(nics, domid, opts.savedStateFd !== undefined));
  if (opts.savedStateFd !== undefined) args.push('-incoming', `fd:${opts.savedStateFd}`);
  args.push('-machine', b.xenPlatformPci ? 'xenfv,suppress-vmdesc=on' : 'pc,accel=xen,suppress-vmdesc=on');
  args.push('-m', String(sizekbToMb(b.maxMemkb - b.videoMemkb)));
  env.push(['XEN_DOMAIN_ID', String(domid)]);
  const diskArgs = buildDiskArgs(disks, { hdtype: h.hdtype, domid });
  args.push(...diskArgs.args);
  return { args, env, warnings: [...ignoredSettings(d), ...diskArgs.warnings] };
}

/** Settings a parsed config holds that this builder does not turn into QEMU arguments. */
export function ignoredSettings(d: DomainConfig): string[] {
  const b = d.b_info;
  const h = b.hvm;
  const set: [boolean, string][] = [
    [d.channels.length > 0, 'channel'],
    [h.spice.enable === true, 'spice'],
    [h.usb === true || h.usbdevice !== null || (h.usbdevice_list?.length ?? 0) > 0 || h.usbversion !== 0, 'usb/usbdevice/usbversion'],
    [d.usbctrls.length + d.usbdevs.length > 0, 'usbctrl/usbdev'],
    [h.soundhw !== null, 'soundhw'],
    [(b.extra?.length ?? 0) + (b.extra_hvm?.length ?? 0) > 0, 'device_model_args'],
    [b.kernel !== null || b.ramdisk !== null, 'kernel/ramdisk'],
    [h.gfx_passthru === true, 'gfx_passthru'],
    [b.dm_restrict === true, 'dm_restrict'],
  ];
  return set.filter(([on]) => on).map(([, key]) => `colo-xl does not pass ${key} to the device model; ignored`);
}
