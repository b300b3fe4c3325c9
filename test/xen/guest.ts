/**
 * PV guests on the rig, made by real xl inside dom0: raw disk files with a marker at byte 0 on
 * loop devices, `xl create` of the guest in recipe/guest/pv.cfg, and waits on what xenstore and
 * the guest's console (xenconsoled's log) show. Waits run as bounded loops inside dom0, one
 * request each, so a slow 9p round trip is paid once per wait rather than once per poll.
 */
import type { Dom0Channel } from './dom0.js';
import { XenRigError } from './errors.js';

export const GUEST_CFG = '/opt/xen-rig/guest/pv.cfg';
export const WORK_DIR = '/var/lib/xen-rig';
export const CONSOLE_LOG_DIR = '/var/log/xen/console';

/** xl's device number for xvdX (blkif major 202, 16 minors a disk). */
export function xvdDevid(letter: string): number {
  return (202 << 8) | ((letter.charCodeAt(0) - 'a'.charCodeAt(0)) << 4);
}

/** Single-quotes a word for bash. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface LoopDisk {
  file: string;
  loop: string;
  magic: string;
}

/** A raw file of `mib` MiB starting with `magic`, attached to a free loop device. */
export async function makeLoopDisk(dom0: Dom0Channel, name: string, magic: string, mib: number): Promise<LoopDisk> {
  const file = `${WORK_DIR}/${name}.raw`;
  const out = await dom0.check([
    `mkdir -p ${WORK_DIR} && rm -f ${file} && truncate -s ${mib}M ${file}`,
    `printf %s ${shq(magic)} | dd of=${file} conv=notrunc status=none`,
    `losetup -f --show ${file}`,
  ].join('\n'));
  return { file, loop: out.trim(), magic };
}

export async function removeLoopDisk(dom0: Dom0Channel, d: LoopDisk): Promise<void> {
  await dom0.run(`losetup -d ${d.loop}; rm -f ${d.file}`);
}

export interface CreatedGuest {
  name: string;
  domid: number;
  /** How long `xl create` took to return. */
  createSeconds: number;
}

/** Real `xl create` of the rig's PV guest named `name` with the given xl disk specs. */
export async function xlCreate(dom0: Dom0Channel, name: string, disks: readonly string[]): Promise<CreatedGuest> {
  const diskList = `disk=[${disks.map((d) => JSON.stringify(d)).join(',')}]`;
  const out = await dom0.check([
    `rm -f ${CONSOLE_LOG_DIR}/guest-${name}.log`,
    `t0=$(date +%s%N)`,
    `xl create ${GUEST_CFG} ${shq(`name="${name}"`)} ${shq(diskList)}`,
    `echo "ms $(( ($(date +%s%N) - t0) / 1000000 ))"`,
    `echo "domid $(xl domid ${name})"`,
  ].join('\n'), { timeoutSeconds: 600 });
  const domid = Number(/^domid (\d+)$/m.exec(out)?.[1]);
  const createSeconds = Number(/^ms (\d+)$/m.exec(out)?.[1]) / 1000;
  if (!Number.isInteger(domid)) throw new XenRigError(`xen rig: no domid for ${name} after xl create:\n${out}`);
  return { name, domid, createSeconds };
}

/**
 * Waits in dom0 until the bash condition `cond` holds, polling every half second for at most
 * `seconds`; answers how long it took, or throws with `describe`'s output when it never held.
 */
export async function waitInDom0(dom0: Dom0Channel, cond: string, seconds: number, describe: string): Promise<number> {
  const tries = Math.ceil(seconds * 2);
  const r = await dom0.run([
    // bash's own timed read on a private FIFO rather than a `sleep` process each turn (see the agent)
    `t0=$(date +%s%N); i=0; tick=$(mktemp -u); mkfifo $tick; exec 8<> $tick; rm -f $tick`,
    `until ${cond}; do i=$((i + 1)); if [ $i -ge ${tries} ]; then ${describe}; exit 3; fi; read -rt 0.5 -u 8 _; done`,
    `echo "waited $(( ($(date +%s%N) - t0) / 1000000 ))"`,
  ].join('\n'), { timeoutSeconds: seconds + 60 });
  if (r.status !== 0) {
    throw new XenRigError(`xen rig: ${cond} did not hold within ${seconds} s:\n${r.stdout}${r.stderr}`);
  }
  return Number(/waited (\d+)/.exec(r.stdout)?.[1]) / 1000;
}

/** Waits for a backend's xenbus state (4 = Connected); answers the seconds waited. */
export function waitBackendState(dom0: Dom0Channel, backendPath: string, state: number, seconds: number): Promise<number> {
  return waitInDom0(dom0, `[ "$(xenstore-read ${backendPath}/state 2>/dev/null)" = ${state} ]`, seconds,
    `echo "state $(xenstore-read ${backendPath}/state 2>&1)"; xenstore-ls -fp ${backendPath} 2>&1 | head -40`);
}

/** Waits for a line matching the ERE `pattern` in the guest's console log. */
export function waitGuestConsole(dom0: Dom0Channel, name: string, pattern: string, seconds: number): Promise<number> {
  const log = `${CONSOLE_LOG_DIR}/guest-${name}.log`;
  return waitInDom0(dom0, `grep -qaE ${shq(pattern)} ${log} 2>/dev/null`, seconds, `tail -n 30 ${log} 2>&1`);
}

export async function guestConsole(dom0: Dom0Channel, name: string): Promise<string> {
  return (await dom0.run(`cat ${CONSOLE_LOG_DIR}/guest-${name}.log`)).stdout;
}
