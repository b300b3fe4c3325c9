/**
 * Real QEMU for tests: the process helpers live in lib/qemu/process.ts (the demo and the
 * benchmark use them too); here are the tests' own QemuGroup (every QEMU a test starts, ended
 * by stopAllQemus() in the suites' after hooks), the checks that the Debian packages are
 * installed, offline qemu-io, and libxl's drive strings for the test QEMUs.
 */
import { spawnSync } from 'node:child_process';
import { QEMU_BIN, QEMU_IMG, QEMU_IO, QemuGroup, freePort as pickFreePort, type QemuProcess } from '../../lib/qemu/process.js';
import { requireFile } from './require-tool.js';

export * from '../../lib/qemu/process.js';

// Every port handed to a test in this process: a suite picks many before its QEMUs bind them,
// and two random picks that agree made a QEMU fail with "Address already in use".
const handedOut = new Set<number>();

/** lib's freePort, never handing this test process the same port twice. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await pickFreePort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** The QEMUs the tests (and the benchmark) start, in one group for the after hooks to end. */
export const testQemus = new QemuGroup();

/** Starts a QEMU in the tests' group (see QemuGroup.spawn). */
export function startQemu(name: string, args: string[], dir: string): Promise<QemuProcess> {
  return testQemus.spawn(name, args, dir);
}

/** For after hooks: ends every QEMU the tests started and that has not ended yet. */
export function stopAllQemus(): Promise<void> {
  return testQemus.stopAll(1000);
}

export function requireQemu(): void {
  requireFile(QEMU_BIN, 'qemu-system-x86');
  requireFile(QEMU_IMG, 'qemu-utils');
  requireFile(QEMU_IO, 'qemu-utils');
}

/** Offline qemu-io (read-only, shared lock) on an image file; returns its output. */
export function qemuIoOffline(image: string, cmd: string, format = 'qcow2'): string {
  const r = spawnSync(QEMU_IO, ['-r', '-U', '-f', format, '-c', cmd, image], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`;
}

/** One xl disk as the drive builders need it (vdev hdN: IDE index N, devid 768 + 64·N). */
export interface TestColoDisk {
  index: number;
  devid: number;
  exportName: string;
  target: string;
  activeDisk: string;
  hiddenDisk: string;
}

/**
 * libxl 4.17's IDE drive arguments (spec §5.2–5.3) for a COLO disk, with the machine swapped for
 * `pc`. `topId` defaults to libxl's constant "top-colo"; pass another to get past its
 * one-disk-per-secondary limit.
 */
export function libxlColoDriveArgs(role: 'primary' | 'secondary', d: TestColoDisk, topId = 'top-colo'): string[] {
  if (role === 'primary') {
    return [
      '-drive',
      `if=ide,index=${d.index},media=disk,cache=writeback,driver=quorum,id=${d.exportName},` +
        `children.0.file.filename=${d.target},children.0.driver=qcow2,read-pattern=fifo,vote-threshold=1`,
    ];
  }
  return [
    '-drive',
    `if=none,driver=qcow2,file=${d.target},id=${d.exportName}`,
    '-drive',
    `if=ide,index=${d.index},id=${topId},media=disk,cache=writeback,driver=replication,mode=secondary,` +
      `top-id=${topId},file.driver=qcow2,file.file.filename=${d.activeDisk},file.backing.driver=qcow2,` +
      `file.backing.file.filename=${d.hiddenDisk},file.backing.backing=${d.exportName}`,
  ];
}
