/**
 * libxl_vnc_info and libxl_sdl_info (Xen 4.17 libxl_types.idl), which both a vfb device and an
 * HVM guest's build info carry, with their IDL defaults.
 */
import type { Defbool } from './disk.js';

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

// libxl_vnc_info_init, libxl_sdl_info_init
export const vncInfoInit = (): VncInfo => ({ enable: null, listen: null, passwd: null, display: 0, findunused: null });
export const sdlInfoInit = (): SdlInfo => ({ enable: null, opengl: null, display: null, xauthority: null });
