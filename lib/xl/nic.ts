/**
 * xl's vif= handling (tools/xl/xl_parse.c parse_nic_config, Xen 4.17) and libxlu's rate
 * parser (tools/libs/util/libxlu_vif.c), including the COLO proxy keys.
 */

import { strtokAll, strtoul } from '../util/cstr.js';
import { deviceNicInit, NIC_TAIL_FIELDS, type DeviceNic, type NicTailField } from '../libxl/types/devices.js';

const UINT32_MAX = 0xffffffffn;
const UINT64_MAX = 2n ** 64n - 1n;

export interface NicParseIo {
  err: (text: string) => void;
  /** xl's exit(status) (XlGetters.exit). */
  exit: (status: number) => never;
  /** The config's source name (libxlu's config_source). */
  source: string;
}

// xlu__vif_err, then the EINVAL or EOVERFLOW xl exits 1 on
function vifFail(io: NicParseIo, msg: string, rate: string): never {
  io.err(`${io.source}: config parsing error in vif: ${msg} in \`${rate}'\n`);
  return io.exit(1);
}

// strtoull(p, &p, 0) then the checks both vif_parse_rate_* make
function rateNumber(s: string): { value: bigint; rest: string } {
  const r = strtoul(s, 0);
  return { value: r.erange ? UINT64_MAX : r.value, rest: s.slice(r.end) };
}

// vif_parse_rate_bytes_per_sec
function bytesPerSec(io: NicParseIo, bytes: string): bigint {
  if (!/^[0-9]+[GMK]?[Bb]\/s$/.test(bytes)) vifFail(io, 'invalid rate', bytes);
  let { value: tmp, rest } = rateNumber(bytes);
  if (tmp === 0n || tmp > UINT32_MAX) vifFail(io, 'rate overflow', bytes);
  if (rest[0] === 'G') tmp *= 1_000_000_000n;
  else if (rest[0] === 'M') tmp *= 1_000_000n;
  else if (rest[0] === 'K') tmp *= 1000n;
  if (rest[0] === 'b' || rest[1] === 'b') tmp /= 8n;
  return tmp;
}

// vif_parse_rate_interval_usecs
function intervalUsecs(io: NicParseIo, interval: string): bigint {
  if (!/^[0-9]+[mu]?s?$/.test(interval)) vifFail(io, 'invalid replenishment interval', interval);
  let { value: tmp, rest } = rateNumber(interval);
  if (tmp === 0n || tmp > UINT32_MAX) vifFail(io, 'replenishment interval overflow', interval);
  if (rest[0] === 's' || rest.length === 0) tmp *= 1_000_000n;
  else if (rest[0] === 'm') tmp *= 1000n;
  if (tmp > UINT32_MAX) vifFail(io, 'replenishment interval overflow', interval);
  return tmp;
}

// xlu_vif_parse_rate (its EINVAL and EOVERFLOW make xl exit 1)
function parseVifRate(io: NicParseIo, rate: string, nic: DeviceNic): void {
  const at = rate.indexOf('@');
  const bytes = at < 0 ? rate : rate.slice(0, at);
  if (bytes === '') vifFail(io, 'no rate specified', rate);
  const bps = bytesPerSec(io, bytes);
  const usecs = at < 0 ? 50_000n : intervalUsecs(io, rate.slice(at + 1));
  if (usecs !== 0n && bps > UINT64_MAX / usecs) vifFail(io, 'rate overflow', rate);
  nic.rate_interval_usecs = Number(usecs);
  nic.rate_bytes_per_interval = (bps * usecs) / 1_000_000n;
}

// parse_ulong
function parseUlong(io: NicParseIo, s: string): number {
  const r = strtoul(s, 10);
  if (r.end === 0 || r.value === UINT64_MAX) {
    io.err(`xl: failed to convert "${s}" to number\n`);
    io.exit(1);
  }
  // Stored in an int field.
  return Number(BigInt.asIntN(32, r.value));
}

/**
 * The mac= octets. strtoul runs on from each separator, so a short MAC reads on into the rest of
 * the vif string (`after`: what follows the token once strtok has cut it); past the end of that
 * string C reads whatever the heap holds, which is taken here as "not a number".
 */
function parseMac(io: NicParseIo, value: string, after: string | null, nic: DeviceNic): void {
  const buf = after === null ? value : `${value}\0${after}`;
  let pos = 0;
  for (let i = 0; i < 6; i++) {
    const r = pos <= buf.length ? strtoul(buf.slice(pos).split('\0', 1)[0]!, 16) : null;
    // `unsigned int val = strtoul(...)`: the value is cut to 32 bits before the range check.
    const val = r === null ? 0n : BigInt.asUintN(32, r.value);
    if (r === null || r.end === 0 || val > 255n) {
      io.err("Invalid parameter `mac'.\n");
      return;
    }
    nic.mac[i] = Number(val);
    pos += r.end + 1;
  }
}

const STRING_KEYS: Record<string, 'bridge' | 'ip' | 'script' | 'backend_domname' | 'ifname' | 'model'> = {
  bridge: 'bridge', ip: 'ip', script: 'script', backend: 'backend_domname', vifname: 'ifname', model: 'model',
};
const TAIL_KEYS = new Set<string>(NIC_TAIL_FIELDS.filter((f) => f.startsWith('colo_')));

// parse_nic_config: a bad token is reported and skipped (xl ignores its return value), a bad rate exits.
export function parseNicConfig(io: NicParseIo, nic: DeviceNic, token: string, after: string | null): void {
  const eq = token.indexOf('=');
  const key = eq < 0 ? null : token.slice(0, eq);
  const v = eq < 0 ? '' : token.slice(eq + 1);
  if (key === 'type') {
    if (v === 'vif') nic.nictype = 'vif';
    else if (v === 'ioemu') nic.nictype = 'vif_ioemu';
    else io.err("Invalid parameter `type'.\n");
  } else if (key === 'mac') {
    parseMac(io, v, after, nic);
  } else if (key !== null && Object.hasOwn(STRING_KEYS, key)) {
    nic[STRING_KEYS[key]!] = v;
  } else if (key === 'netdev') {
    io.err('the netdev parameter is deprecated, please use gatewaydev instead\n');
    nic.tail.gatewaydev = v;
  } else if (key === 'gatewaydev') {
    nic.tail.gatewaydev = v;
  } else if (key === 'rate') {
    parseVifRate(io, v, nic);
  } else if (key === 'forwarddev') {
    nic.tail.coloft_forwarddev = v;
  } else if (key !== null && TAIL_KEYS.has(key)) {
    nic.tail[key as NicTailField] = v;
  } else if (key === 'accel') {
    io.err('the accel parameter for vifs is currently not supported\n');
  } else if (key === 'devid') {
    nic.devid = parseUlong(io, v);
  } else if (key === 'mtu') {
    nic.mtu = parseUlong(io, v);
  } else if (token === 'trusted') {
    nic.trusted = true;
  } else if (token === 'untrusted') {
    nic.trusted = false;
  } else {
    io.err(`unrecognized argument \`${token}'\n`);
  }
}

/** One vif= item: strtok on ",", leading spaces skipped per token (parse_config_data's vif loop). */
export function parseVifSpec(io: NicParseIo, spec: string, devid: number): DeviceNic {
  const nic = deviceNicInit(devid);
  for (const { token, start } of strtokAll(spec, ',')) {
    const end = start + token.length;
    const after = end < spec.length ? spec.slice(end + 1) : null;
    parseNicConfig(io, nic, token.replace(/^ +/, ''), after);
  }
  return nic;
}
