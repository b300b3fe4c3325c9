/**
 * Virtual disk names and device numbers (libxl_internal.c / libxl_utils.c), as libxl 4.17 maps
 * them: xvd (with the extended numbering), hd, sd, d<N>p<M> and bare numbers.
 */
import { strtoul } from '../util/cstr.js';

export interface DiskDevNumber {
  /** The device number written to xenstore (the devid), or -1 when libxl refuses the name. */
  devid: number;
  /** The disk index, or -1 where libxl cannot tell (bare numbers) or refuses the name. */
  disk: number;
  partition: number;
}

const INVALID: DiskDevNumber = { devid: -1, disk: -1, partition: -1 };

/** sscanf "%i" over a whole field, as `d%ip%i%c` needs it (an int, signs allowed). */
function scanInt(s: string): { value: number; end: number } | null {
  const r = strtoul(s, 0);
  if (r.end === 0) return null;
  return { value: Number(BigInt.asIntN(32, r.value)), end: r.end };
}

/**
 * `long pl = strtoul(s, &end, 10)` refused on ERANGE or above `max`. The unsigned result lands
 * in a signed long, so "-6" passes as -6 (and becomes a partition number).
 */
function strtoulMax(s: string, max: number): { value: number; end: number } | null {
  const r = strtoul(s, 10);
  const pl = BigInt.asIntN(64, r.value);
  if (r.erange || pl > BigInt(max)) return null;
  return { value: Number(BigInt.asIntN(32, pl)), end: r.end };
}

// device_virtdisk_matches: <prefix><letters as bijective base 26>[<partition>]
function virtdiskMatches(vdev: string, prefix: string, maxIndex: number, maxPartition: number): { disk: number; partition: number } | null {
  if (!vdev.startsWith(prefix)) return null;
  let disk = -1;
  let i = prefix.length;
  for (; i < vdev.length && vdev[i]! >= 'a' && vdev[i]! <= 'z'; i++) {
    disk = (disk + 1) * 26 + (vdev.charCodeAt(i) - 97);
    if (disk > maxIndex) return null;
  }
  const rest = vdev.slice(i);
  if (rest === '') return { disk, partition: 0 };
  // no leading zero; the rest goes through strtoul, so blanks and a '+' sign pass
  if (rest[0] === '0') return null;
  const r = strtoulMax(rest, maxPartition);
  if (r === null || r.end !== rest.length) return null;
  return { disk, partition: r.value };
}

/**
 * libxl__device_disk_dev_number. `wantDisk` is a caller passing pdisk/ppartition: libxl then
 * refuses a bare device number (it says nothing about the disk index), as the device model does.
 */
export function deviceDiskDevNumber(vdev: string | null, wantDisk = false): DiskDevNumber {
  if (vdev === null) return INVALID;

  // sscanf(vdev, "d%ip%i%n") consuming the whole name, disk < 2^20, partition < 256
  const dp = scanDp(vdev);
  const xvd = dp ?? virtdiskMatches(vdev, 'xvd', (1 << 20) - 1, 255);
  if (xvd) {
    const { disk, partition } = xvd;
    // C int arithmetic: the bare "xvd" (disk -1) comes out as -16
    const devid = disk <= 15 && partition <= 15 ? (202 << 8) | (disk << 4) | partition : (1 << 28) | (disk << 8) | partition;
    return { devid, disk, partition };
  }

  // a bare number is the devid itself (strtoul base 0, up to INT_MAX; "" is 0)
  const num = strtoul(vdev, 0);
  if (!num.erange && num.end === vdev.length && num.value <= 0x7fffffffn) {
    return wantDisk ? INVALID : { devid: Number(num.value), disk: -1, partition: -1 };
  }

  const hd = virtdiskMatches(vdev, 'hd', 3, 63);
  if (hd) {
    const { disk, partition } = hd;
    return { devid: ((disk < 2 ? 3 : 22) << 8) | ((disk & 1) << 6) | partition, disk, partition };
  }
  const sd = virtdiskMatches(vdev, 'sd', 15, 15);
  if (sd) {
    const { disk, partition } = sd;
    return { devid: (8 << 8) | (disk << 4) | partition, disk, partition };
  }
  return INVALID;
}

/** The `d%ip%i%n` form (sscanf %i: blanks, sign, 0x and 0 prefixes). */
function scanDp(vdev: string): { disk: number; partition: number } | null {
  if (vdev[0] !== 'd') return null;
  const n = scanInt(vdev.slice(1));
  if (!n || vdev[1 + n.end] !== 'p') return null;
  const rest = vdev.slice(2 + n.end);
  const m = scanInt(rest);
  if (!m || m.end !== rest.length) return null;
  if (n.value >= 1 << 20 || m.value >= 256) return null;
  return { disk: n.value, partition: m.value };
}

// libxl__devid_to_vdev (always an xvd name)
export function devidToVdev(devid: number): string {
  let disk: number;
  let partition: number;
  if (devid & (1 << 28)) {
    disk = (devid & ~(1 << 28)) >>> 8;
    partition = devid & 0xff;
  } else {
    disk = (devid >>> 4) & 0xf;
    partition = devid & 0xf;
  }
  return `xvd${encodeDiskName(disk)}${partition ? partition : ''}`;
}

// encode_disk_name: bijective base 26
function encodeDiskName(n: number): string {
  let s = '';
  for (let k = n + 1; k > 0; k = Math.floor((k - 1) / 26)) s = String.fromCharCode(97 + ((k - 1) % 26)) + s;
  return s;
}
