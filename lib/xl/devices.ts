/**
 * parse_config_data's device lists other than disks and vifs (tools/xl/xl_parse.c, Xen 4.17):
 * channel=, vfb= (each with its vkb), usbctrl=, usbdev=, and the top-level VNC/SDL keys.
 */

import { atoi, strtokAll, strtoul, trimSpace } from '../util/cstr.js';
import { deviceChannelInit, deviceVfbInit, type DeviceChannel, type DeviceUsbctrl, type DeviceUsbdev, type DeviceVfb } from '../libxl/types/devices.js';
import type { DomainConfig } from '../libxl/types/domain-config.js';
import type { SdlInfo, VncInfo } from '../libxl/types/display.js';
import { eachListItem, enumFromString, keyValuePairs, toInt, type XlGetters } from './getters.js';
import { XlExit } from './exit.js';

/**
 * Input on which Xen 4.17's xl dereferences NULL and dies of SIGSEGV (a string that splits into
 * no token, a nested list where it expects strings): colo-xl refuses it with status 1 and says
 * why, which is the nearest a program can come to a crash.
 */
export class XlCrashes extends XlExit {
  constructor(
    readonly what: string,
    report = '',
  ) {
    super(1, report);
  }
}

export function xlCrashes(g: XlGetters, what: string): never {
  g.err(`colo-xl: refusing ${what}: xl 4.17 crashes on it (SIGSEGV)\n`);
  throw new XlCrashes(what, g.report());
}

// split_string_into_pair(str, "=") (strtok: runs of '=' separate, a third field is dropped)
function splitPair(s: string): [string, string] | null {
  const t = strtokAll(s, '=');
  return t.length >= 2 ? [t[0]!.token, t[1]!.token] : null;
}

// parse_config_data: channel=
function parseChannel(g: XlGetters, spec: string, devid: number): DeviceChannel {
  const chn = deviceChannelInit(devid);
  const pairs = strtokAll(spec, ',');
  if (pairs.length === 0) xlCrashes(g, `the channel spec "${spec}"`);
  let path: string | null = null;
  for (const { token } of pairs) {
    const kv = splitPair(token);
    if (kv === null) g.fail(`failed to parse channel configuration: ${token}`);
    const key = trimSpace(kv![0]);
    const value = trimSpace(kv![1]);
    if (key === 'backend') chn.backend_domname = value;
    else if (key === 'name') chn.name = value;
    else if (key === 'path') path = value;
    else if (key === 'connection') {
      if (value === 'pty') chn.connection = 'pty';
      else if (value === 'socket') chn.connection = 'socket';
      else g.fail(`unknown channel connection '${value}'\n`);
    } else g.err(`unknown channel parameter '${key}', ignoring\n`);
  }
  if (chn.connection === 'unknown') g.fail("channel has unknown 'connection'\n");
  if (chn.connection === 'socket') {
    if (path === null) g.fail("channel connection 'socket' requires path=..\n");
    chn.path = path;
  }
  return chn;
}

export function parseChannels(g: XlGetters, d: DomainConfig): void {
  eachListItem(g, 'channel', (spec, i) => d.channels.push(parseChannel(g, spec, i)));
}

// parse_config_data: vfb= (a token without '=' ends the item; unknown keys are ignored)
function parseVfb(spec: string, devid: number): DeviceVfb {
  const vfb = deviceVfbInit(devid);
  for (const [k, v] of keyValuePairs(spec)) {
    if (k === 'vnc') vfb.vnc.enable = atoi(v) !== 0;
    else if (k === 'vnclisten') vfb.vnc.listen = v;
    else if (k === 'vncpasswd') vfb.vnc.passwd = v;
    else if (k === 'vncdisplay') vfb.vnc.display = atoi(v);
    else if (k === 'vncunused') vfb.vnc.findunused = atoi(v) !== 0;
    else if (k === 'keymap') vfb.keymap = v;
    else if (k === 'sdl') vfb.sdl.enable = atoi(v) !== 0;
    else if (k === 'opengl') vfb.sdl.opengl = atoi(v) !== 0;
    else if (k === 'display') vfb.sdl.display = v;
    else if (k === 'xauthority') vfb.sdl.xauthority = v;
  }
  return vfb;
}

export function parseVfbs(g: XlGetters, d: DomainConfig): void {
  eachListItem(g, 'vfb', (spec, i) => {
    d.vfbs.push(parseVfb(spec, i));
    d.vkbs.push({ devid: i });
  });
}

const USBCTRL_TYPES = ['auto', 'pv', 'devicemodel', 'qusb'];

/** A list's string items, each split on "," with leading blanks dropped from every token. */
function eachSpec(g: XlGetters, key: string, each: (tokens: string[], index: number) => void): void {
  eachListItem(g, key, (spec, i) => each(strtokAll(spec, ',').map((t) => t.token.replace(/^ +/, '')), i));
}

// parse_config_data: usbctrl= with parse_usbctrl_config (any bad token makes xl exit 1)
export function parseUsbctrls(g: XlGetters, d: DomainConfig): void {
  eachSpec(g, 'usbctrl', (tokens, i) => {
    const c: DeviceUsbctrl = { type: 'auto', devid: i, version: 0, ports: 0 };
    for (const t of tokens) {
      const [k, v] = splitOption(t);
      if (k === 'type') {
        const e = enumFromString(USBCTRL_TYPES, v);
        if (e === null) g.fail(`Invalid usb controller type '${v}'\n`);
        c.type = e!;
      } else if (k === 'version') c.version = atoi(v);
      else if (k === 'ports') c.ports = atoi(v);
      else g.fail(`Unknown string \`${t}' in usbctrl spec\n`);
    }
    d.usbctrls.push(c);
  });
}

// parse_config_data: usbdev= with parse_usbdev_config
export function parseUsbdevs(g: XlGetters, d: DomainConfig): void {
  eachSpec(g, 'usbdev', (tokens) => {
    const u: DeviceUsbdev = { ctrl: -1, port: 0, type: null, hostbus: 0, hostaddr: 0 };
    for (const t of tokens) {
      const [k, v] = splitOption(t);
      if (k === 'type') {
        // xl prints getopt's optarg here, not the value: NULL after `xl create FILE`.
        if (enumFromString(['hostdev'], v) === null) g.fail('Invalid usb device type: (null)\n');
        u.type = 'hostdev';
      } else if (k === 'hostbus') u.hostbus = Number(BigInt.asUintN(8, strtoul(v, 0).value));
      else if (k === 'hostaddr') u.hostaddr = Number(BigInt.asUintN(8, strtoul(v, 0).value));
      else if (k === 'controller') u.ctrl = atoi(v);
      else if (k === 'port') u.port = atoi(v);
      else g.fail(`Unknown string \`${t}' in usbdev spec\n`);
    }
    d.usbdevs.push(u);
  });
}

/** MATCH_OPTION's split: the key before the first "=", or null without one. */
function splitOption(t: string): [string | null, string] {
  const eq = t.indexOf('=');
  return eq < 0 ? [null, ''] : [t.slice(0, eq), t.slice(eq + 1)];
}

// parse_top_level_vnc_options
export function parseTopLevelVnc(g: XlGetters, vnc: VncInfo): void {
  vnc.enable = g.defbool('vnc', vnc.enable);
  vnc.listen = g.replace('vnclisten', vnc.listen);
  vnc.passwd = g.replace('vncpasswd', vnc.passwd);
  const l = g.long('vncdisplay');
  if (l !== null) vnc.display = toInt(l);
  vnc.findunused = g.defbool('vncunused', vnc.findunused);
}

// parse_top_level_sdl_options
export function parseTopLevelSdl(g: XlGetters, sdl: SdlInfo): void {
  sdl.enable = g.defbool('sdl', sdl.enable);
  sdl.opengl = g.defbool('opengl', sdl.opengl);
  sdl.display = g.replace('display', sdl.display);
  sdl.xauthority = g.replace('xauthority', sdl.xauthority);
}
