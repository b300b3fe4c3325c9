/** The JSON of libxl_vnc_info and libxl_sdl_info, shared by a vfb and an HVM guest's build info. */
import type { SdlInfo, VncInfo } from './types/display.js';
import { fields, type Gen } from './json-fields.js';

// libxl_vnc_info_gen_json
export function vncGenJson(g: Gen, v: VncInfo): void {
  fields(g, v, ['defbool enable', 'str listen', 'str passwd', 'int display', 'defbool findunused']);
}

// libxl_sdl_info_gen_json
export function sdlGenJson(g: Gen, s: SdlInfo): void {
  fields(g, s, ['defbool enable', 'defbool opengl', 'str display', 'str xauthority']);
}
