/**
 * Real QEMU for tests: the process helpers live in lib/qemu/process.ts (the demo and the
 * benchmark use them too); here are the checks that the Debian packages are installed and libxl's
 * drive strings for the test QEMUs.
 */
import { QEMU_BIN, QEMU_IMG, QEMU_IO } from '../../lib/qemu/process.js';
import { requireFile } from './require-tool.js';

export * from '../../lib/qemu/process.js';

export function requireQemu(): void {
  requireFile(QEMU_BIN, 'qemu-system-x86');
  requireFile(QEMU_IMG, 'qemu-utils');
  requireFile(QEMU_IO, 'qemu-utils');
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
