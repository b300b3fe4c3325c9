/**
 * The emulated NICs of an HVM guest's qemu-xen command line (libxl_dm.c,
 * libxl__build_device_model_args_new, Xen 4.17) after libxl_nic.c:libxl__device_nic_setdefault:
 * a `-device` and a tap `-netdev` per NIC, and for COLO the proxy's sockets and filters (the
 * primary's mirror, redirectors and comparator; the secondary's redirectors and rewriter).
 */

import type { DeviceNic, NicTailField } from '../types/devices.js';

/** libxl_uuid_generate's first bytes, from which libxl draws a MAC; tests pin it. */
export type RandomBytes = (n: number) => Uint8Array;

const defaultRandom: RandomBytes = (n) => globalThis.crypto.getRandomValues(new Uint8Array(n));

// libxl__device_nic_setdefault (new HVM domain, not hotplug), for the fields the arguments use
export function deviceNicSetdefaultHvm(nic: DeviceNic, random: RandomBytes = defaultRandom): DeviceNic {
  const n: DeviceNic = { ...nic, mac: [...nic.mac], tail: { ...nic.tail } };
  if (!n.mtu) n.mtu = 1500;
  n.model ??= 'rtl8139';
  if (n.mac.every((o) => o === 0)) {
    // Xen's OUI, then three random bytes with the top bit of the first cleared.
    const r = random(3);
    n.mac = [0x00, 0x16, 0x3e, r[0]! & 0x7f, r[1]!, r[2]!];
  }
  n.bridge ??= 'xenbr0';
  if (n.nictype === 'unknown') n.nictype = 'vif_ioemu';
  n.trusted ??= true;
  return n;
}

const mac = (m: number[]): string => m.map((o) => o.toString(16).padStart(2, '0')).join(':');

type SockKey = 'sock_mirror' | 'sock_compare_pri_in' | 'sock_compare_sec_in' | 'sock_compare_notify' |
  'sock_redirector0' | 'sock_redirector1' | 'sock_redirector2' | 'sock_sec_redirector0' | 'sock_sec_redirector1';

// APPEND_COLO_SOCK_SERVER / APPEND_COLO_SOCK_CLIENT: only when id, ip and port are all set.
function coloSock(args: string[], nic: DeviceNic, key: SockKey, server: boolean): void {
  const t = nic.tail;
  const id = t[`colo_${key}_id` as NicTailField];
  const ip = t[`colo_${key}_ip` as NicTailField];
  const port = t[`colo_${key}_port` as NicTailField];
  if (id === undefined || ip === undefined || port === undefined) return;
  args.push('-chardev', `socket,id=${id},host=${ip},port=${port}${server ? ',server=on,wait=off' : ''}`);
}

function filter(args: string[], kind: string, id: string, nic: DeviceNic, queue: string | undefined, dir: 'indev' | 'outdev' | null, dev: string | undefined): void {
  if (queue === undefined || (dir !== null && dev === undefined)) return;
  args.push('-object', `${kind},id=${id},netdev=net${nic.devid},queue=${queue}${dir !== null ? `,${dir}=${dev}` : ''}`);
}

/**
 * The arguments for `nics` (already defaulted) of domain `domid`; `secondary` is a COLO restore
 * (libxl's state->saved_state). Ends with `-net none` when no NIC is emulated, as libxl does.
 */
export function buildNicArgs(nics: readonly DeviceNic[], domid: number, secondary: boolean): string[] {
  const args: string[] = [];
  let ioemu = 0;
  for (const nic of nics) {
    if (nic.nictype !== 'vif_ioemu') continue;
    // libxl__device_nic_devname(VIF_IOEMU): NETBACK_NIC_NAME TAP_DEVICE_SUFFIX
    const ifname = `vif${domid}.${nic.devid}-emu`;
    args.push('-device', `${nic.model},id=nic${nic.devid},netdev=net${nic.devid},mac=${mac(nic.mac)}`);
    args.push('-netdev', `type=tap,id=net${nic.devid},ifname=${ifname},br=${nic.bridge},script=no,downscript=no`);
    const t = nic.tail;
    if (secondary) {
      coloSock(args, nic, 'sock_sec_redirector0', false);
      coloSock(args, nic, 'sock_sec_redirector1', false);
      filter(args, 'filter-redirector', 'rs1', nic, t.colo_filter_sec_redirector0_queue, 'indev', t.colo_filter_sec_redirector0_indev);
      filter(args, 'filter-redirector', 'rs2', nic, t.colo_filter_sec_redirector1_queue, 'outdev', t.colo_filter_sec_redirector1_outdev);
      filter(args, 'filter-rewriter', 'rs3', nic, t.colo_filter_sec_rewriter0_queue, null, undefined);
    } else {
      for (const k of ['sock_mirror', 'sock_compare_pri_in', 'sock_compare_sec_in', 'sock_compare_notify', 'sock_redirector0'] as const) {
        coloSock(args, nic, k, true);
      }
      coloSock(args, nic, 'sock_redirector1', false);
      coloSock(args, nic, 'sock_redirector2', false);
      filter(args, 'filter-mirror', 'm1', nic, t.colo_filter_mirror_queue, 'outdev', t.colo_filter_mirror_outdev);
      filter(args, 'filter-redirector', 'r1', nic, t.colo_filter_redirector0_queue, 'indev', t.colo_filter_redirector0_indev);
      filter(args, 'filter-redirector', 'r2', nic, t.colo_filter_redirector1_queue, 'outdev', t.colo_filter_redirector1_outdev);
      if (t.colo_compare_pri_in !== undefined && t.colo_compare_sec_in !== undefined && t.colo_compare_out !== undefined &&
        t.colo_compare_notify_dev !== undefined) {
        args.push('-object', 'iothread,id=colo-compare-iothread-1');
        args.push('-object', `colo-compare,id=c1,primary_in=${t.colo_compare_pri_in},secondary_in=${t.colo_compare_sec_in},` +
          `outdev=${t.colo_compare_out},notify_dev=${t.colo_compare_notify_dev},iothread=colo-compare-iothread-1`);
      }
    }
    ioemu++;
  }
  if (ioemu === 0) args.push('-net', 'none');
  return args;
}
