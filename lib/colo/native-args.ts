/**
 * Command lines for QEMU-native COLO (KVM hosts; QEMU's COLO-FT procedure, seed 002): the
 * primary's quorum disk, the secondary's parent/replication/quorum stack with `-incoming`, and
 * for a NIC the chardevs, filter-mirror / filter-redirector / filter-rewriter and colo-compare
 * with its iothread. Everything listens on the given (loopback) addresses.
 */
import { InvalidArgumentError } from '../errors.js';

export interface NativeDisk {
  /** Index i names colo-disk<i>, parent<i>, childs<i> and the primary's node replication<i>. */
  index: number;
  /** The primary's image, or the secondary's copy of it (exported as parent<i>). */
  image: string;
  activeDisk?: string;
  hiddenDisk?: string;
}

export interface NativeNic {
  /** The netdev both VMs use (e.g. "tap,id=hn0,…" or "socket,id=hn0,listen=127.0.0.1:P"). */
  netdev: string;
  model?: string;
  /** The primary's host as the secondary reaches it, and the ports of seed 002 (9003/9004…). */
  primaryHost: string;
  mirrorPort: number;
  comparePort: number;
  /** Ports only the primary uses on 127.0.0.1 (compare0 and compare_out loops). */
  compare0Port: number;
  compareOutPort: number;
}

export const diskId = (i: number): string => `colo-disk${i}`;
export const parentId = (i: number): string => `parent${i}`;
export const replicationNode = (i: number): string => `replication${i}`;

export function nativePrimaryArgs(disks: NativeDisk[], nic?: NativeNic): string[] {
  const args: string[] = [];
  if (nic) {
    const loop = (id: string, port: number, server: boolean) =>
      `socket,id=${id},host=127.0.0.1,port=${port}${server ? ',server=on,wait=off' : ''}`;
    args.push(
      '-netdev', nic.netdev,
      '-device', `${nic.model ?? 'rtl8139'},id=e0,netdev=hn0`,
      '-chardev', `socket,id=mirror0,host=${nic.primaryHost},port=${nic.mirrorPort},server=on,wait=off`,
      '-chardev', `socket,id=compare1,host=${nic.primaryHost},port=${nic.comparePort},server=on,wait=off`,
      '-chardev', loop('compare0', nic.compare0Port, true),
      '-chardev', loop('compare0-0', nic.compare0Port, false),
      '-chardev', loop('compare_out', nic.compareOutPort, true),
      '-chardev', loop('compare_out0', nic.compareOutPort, false),
      ...primaryFilterArgs(),
    );
  }
  for (const d of disks) {
    args.push(
      '-drive',
      `if=ide,index=${d.index},id=${diskId(d.index)},driver=quorum,read-pattern=fifo,vote-threshold=1,` +
        `children.0.file.filename=${d.image},children.0.driver=qcow2`,
    );
  }
  return args;
}

/** The primary's filters and colo-compare, as -object arguments. */
function primaryFilterArgs(): string[] {
  return [
    '-object', 'filter-mirror,id=m0,netdev=hn0,queue=tx,outdev=mirror0',
    '-object', 'filter-redirector,netdev=hn0,id=redire0,queue=rx,indev=compare_out',
    '-object', 'filter-redirector,netdev=hn0,id=redire1,queue=rx,outdev=compare0',
    '-object', 'iothread,id=iothread1',
    '-object', 'colo-compare,id=comp0,primary_in=compare0-0,secondary_in=compare1,outdev=compare_out0,iothread=iothread1',
  ];
}

export function nativeSecondaryArgs(disks: NativeDisk[], incoming: { host: string; port: number }, nic?: NativeNic): string[] {
  const args: string[] = [];
  if (nic) {
    args.push(
      '-netdev', nic.netdev,
      '-device', `${nic.model ?? 'rtl8139'},id=e0,netdev=hn0`,
      '-chardev', `socket,id=red0,host=${nic.primaryHost},port=${nic.mirrorPort},reconnect=1`,
      '-chardev', `socket,id=red1,host=${nic.primaryHost},port=${nic.comparePort},reconnect=1`,
      '-object', 'filter-redirector,id=f1,netdev=hn0,queue=tx,indev=red0',
      '-object', 'filter-redirector,id=f2,netdev=hn0,queue=rx,outdev=red1',
      '-object', 'filter-rewriter,id=rew0,netdev=hn0,queue=all',
    );
  }
  for (const d of disks) {
    if (!d.activeDisk || !d.hiddenDisk) throw new InvalidArgumentError(`colo-disk${d.index}: the secondary needs active and hidden disks`);
    args.push(
      '-drive', `if=none,id=${parentId(d.index)},file.filename=${d.image},driver=qcow2`,
      '-drive',
      `if=none,id=childs${d.index},driver=replication,mode=secondary,file.driver=qcow2,top-id=${diskId(d.index)},` +
        `file.file.filename=${d.activeDisk},file.backing.driver=qcow2,file.backing.file.filename=${d.hiddenDisk},` +
        `file.backing.backing=${parentId(d.index)}`,
      '-drive', `if=ide,index=${d.index},id=${diskId(d.index)},driver=quorum,read-pattern=fifo,vote-threshold=1,children.0=childs${d.index}`,
    );
  }
  args.push('-incoming', `tcp:${incoming.host}:${incoming.port}`);
  return args;
}

/**
 * The primary's NIC objects as object-add calls, for a resume; a primary that used to be a
 * secondary already has filter-rewriter rew0, and the new filters must go before it.
 */
export function primaryFilterObjects(wasSecondary: boolean): Array<Record<string, unknown>> {
  const at = wasSecondary ? { insert: 'before', position: 'id=rew0' } : {};
  return [
    { 'qom-type': 'filter-mirror', id: 'm0', netdev: 'hn0', queue: 'tx', outdev: 'mirror0', ...at },
    { 'qom-type': 'filter-redirector', id: 'redire0', netdev: 'hn0', queue: 'rx', indev: 'compare_out', ...at },
    { 'qom-type': 'filter-redirector', id: 'redire1', netdev: 'hn0', queue: 'rx', outdev: 'compare0', ...at },
    { 'qom-type': 'iothread', id: 'iothread1' },
    { 'qom-type': 'colo-compare', id: 'comp0', primary_in: 'compare0-0', secondary_in: 'compare1', outdev: 'compare_out0', iothread: 'iothread1' },
  ];
}
