/**
 * libxl__domain_build_info_setdefault (libxl_create.c, Xen 4.17), for the HVM fields the
 * supported xl.cfg keys and the device model use: vCPUs, memory, VGA and video RAM, boot order,
 * VNC/SDL defaults.
 */
import { MEMKB_DEFAULT, type DomainConfig } from '../types/domain-config.js';
import { ERROR_INVAL, LibxlError } from '../errors.js';

/** The defaulted values the device-model builder reads. */
export interface HvmDefaults {
  maxVcpus: number;
  availVcpus: number[];
  maxMemkb: bigint;
  targetMemkb: bigint;
  videoMemkb: bigint;
  vgaKind: 'cirrus' | 'std' | 'none' | 'qxl';
  deviceModelVersion: 'qemu_xen' | 'qemu_xen_traditional';
  boot: string;
  vnc: { enable: boolean; listen: string | null; passwd: string | null; display: number; findunused: boolean };
  sdl: { enable: boolean; display: string | null; xauthority: string | null };
  nographic: boolean;
  xenPlatformPci: boolean;
}

// libxl__domain_build_info_setdefault (HVM subset)
export function domainBuildInfoSetdefault(d: DomainConfig): HvmDefaults {
  const b = d.b_info;
  const h = b.hvm;
  const version = b.device_model_version === 'qemu_xen_traditional' ? 'qemu_xen_traditional' : 'qemu_xen';
  const maxVcpus = b.max_vcpus || 1;
  const availVcpus = b.avail_vcpus_allocated ? [...b.avail_vcpus] : [0];
  const maxMemkb = b.max_memkb === MEMKB_DEFAULT ? 32n * 1024n : b.max_memkb;
  const targetMemkb = b.target_memkb === MEMKB_DEFAULT ? maxMemkb : b.target_memkb;
  const vgaKind = h.vga.kind === 'unknown' ? 'cirrus' : h.vga.kind;
  let video = b.video_memkb;
  const dflt = (v: bigint): bigint => (video === MEMKB_DEFAULT ? v : video);
  if (version === 'qemu_xen_traditional') {
    if (vgaKind === 'qxl') throw new LibxlError(ERROR_INVAL, 'qemu upstream required for qxl vga');
    if (vgaKind === 'none') video = dflt(0n);
    else if (vgaKind === 'std') {
      video = dflt(8n * 1024n);
      if (video < 8n * 1024n) throw new LibxlError(ERROR_INVAL, 'videoram must be at least 8 MB for STDVGA on QEMU_XEN_TRADITIONAL');
    } else video = dflt(4n * 1024n);
  } else if (vgaKind === 'none') video = dflt(0n);
  else if (vgaKind === 'qxl') {
    if (video !== MEMKB_DEFAULT && video < 128n * 1024n) throw new LibxlError(ERROR_INVAL, '128 Mib videoram is the minimum for qxl default');
    video = dflt(128n * 1024n);
  } else if (vgaKind === 'std') {
    video = dflt(16n * 1024n);
    if (video < 16n * 1024n) throw new LibxlError(ERROR_INVAL, 'videoram must be at least 16 MB for STDVGA on QEMU_XEN');
  } else {
    video = dflt(8n * 1024n);
    if (video < 8n * 1024n) throw new LibxlError(ERROR_INVAL, 'videoram must be at least 8 MB for CIRRUS on QEMU_XEN');
  }
  const vncEnable = h.vnc.enable ?? true;
  return {
    maxVcpus,
    availVcpus,
    maxMemkb,
    targetMemkb,
    videoMemkb: video,
    vgaKind,
    deviceModelVersion: version,
    boot: h.boot ?? 'cda',
    vnc: {
      enable: vncEnable,
      listen: vncEnable ? (h.vnc.listen ?? '127.0.0.1') : h.vnc.listen,
      passwd: h.vnc.passwd,
      display: h.vnc.display,
      findunused: vncEnable ? (h.vnc.findunused ?? true) : (h.vnc.findunused ?? false),
    },
    sdl: { enable: h.sdl.enable ?? false, display: h.sdl.display, xauthority: h.sdl.xauthority },
    nographic: h.nographic ?? false,
    xenPlatformPci: true,
  };
}
