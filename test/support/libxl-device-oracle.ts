/**
 * Xen 4.17's own libxl__device_disk_dev_number, libxl__devid_to_vdev and
 * libxl__device_disk_set_backend, run through test/support/oracles/libxl-device-oracle.c
 * (linked with libxl_device.o from Debian's libxenlight.a).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildC } from './build-c.js';
import { requireFile } from './require-tool.js';

const ARCHIVE = '/usr/lib/x86_64-linux-gnu/libxenlight.a';

function oracle(): string {
  requireFile(ARCHIVE, 'libxen-dev');
  requireFile('/usr/include/libxl.h', 'libxen-dev');
  return buildC({
    name: 'libxl-device-oracle',
    sources: [join(import.meta.dirname, 'oracles', 'libxl-device-oracle.c')],
    args: ['-no-pie', 'libxl_device.o', '-lxlutil', '-lxenlight', '-lxenstore'],
    prepare: (dir) => {
      const r = spawnSync('ar', ['x', ARCHIVE, 'libxl_device.o'], { cwd: dir, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`ar x ${ARCHIVE}: ${r.stderr}`);
    },
  });
}

function run<T>(mode: string, args: string[]): T[] {
  const out: T[] = [];
  // argv has a size limit: a few thousand words a call
  for (let i = 0; i < args.length; i += 2000) {
    const r = spawnSync(oracle(), [mode, ...args.slice(i, i + 2000)], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`libxl-device-oracle ${mode}: status ${r.status}: ${r.stderr}`);
    out.push(...r.stdout.trim().split('\n').map((l) => JSON.parse(l) as T));
  }
  return out;
}

export interface OracleDevNumber {
  vdev: string;
  devid: number;
  /** The same call asking for disk and partition (bare numbers give -1 then). */
  devidSplit: number;
  disk: number;
  partition: number;
}

export const libxlDevNumbers = (vdevs: string[]): OracleDevNumber[] => run('devnum', vdevs);
export const libxlDevidToVdev = (devids: number[]): { devid: number; vdev: string }[] => run('vdev', devids.map(String));

export interface OracleBackend {
  spec: string;
  /** false when libxlu refused the spec (nothing to ask libxl). */
  parse?: false;
  rc?: number;
  backend?: string;
  /** libxl's warnings and errors, one per line. */
  log?: string;
}

export const libxlSetBackend = (specs: string[]): OracleBackend[] => run('backend', specs);
