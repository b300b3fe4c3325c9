/**
 * Two real QEMUs on loopback for the migration tests: a running source built from a
 * VmDescription (the same builder the destination uses), a receiver served in-process, and the
 * control channel between them as a pair of in-memory pipes.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ControlClient } from '../../lib/migrate/channel.js';
import { childLauncher, migrateReceive, type LaunchedQemu, type ReceiveOptions, type ReceiveResult } from '../../lib/migrate/receive.js';
import type { VmDescription } from '../../lib/migrate/types.js';
import { vmArgv } from '../../lib/migrate/vm.js';
import { createImage, pickAccel, qemuImg, type QemuProcess, requireQemu, startQemu, stopAllQemus, testQemus } from '../support/qemu.js';

export interface Pair {
  dir: string;
  srcDir: string;
  dstDir: string;
  vm: VmDescription;
  source: QemuProcess;
  peer: ControlClient;
  received: Promise<ReceiveResult>;
  dest: Promise<LaunchedQemu>;
  /** Ends the source's side of the channel (what a dying `colo-xl migrate` does). */
  closeChannel(): void;
  cleanup(): Promise<void>;
}

export function makeDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `colo-xl-migrate-${tag}-`));
}

/** Creates the source images (with offline patterns written by `prepare`) and starts the source. */
export async function startPair(
  dir: string,
  disks: Array<{ device: string; size: string; backing?: string }>,
  prepare: (file: string, i: number) => void,
  recv: Partial<ReceiveOptions> = {},
): Promise<Pair> {
  const srcDir = join(dir, 'src');
  const dstDir = join(dir, 'dst');
  for (const d of [srcDir, dstDir]) rmSync(d, { recursive: true, force: true });
  const vm: VmDescription = { machine: 'pc', accel: pickAccel(), memoryMiB: 64, disks: [] };
  mkdirSync(srcDir, { recursive: true });
  disks.forEach((d, i) => {
    const file = join(srcDir, `${d.device}.qcow2`);
    if (d.backing) qemuImg('create', '-q', '-f', 'qcow2', '-b', d.backing, '-F', 'qcow2', file, d.size);
    else createImage(file, d.size);
    prepare(file, i);
    const size = Number(/"virtual-size": (\d+)/.exec(qemuImg('info', '--output=json', file))![1]);
    vm.disks.push({ device: d.device, index: i, file, format: 'qcow2', size, ...(d.backing ? { backing: d.backing, backingFormat: 'qcow2' } : {}) });
  });
  const source = await startQemu(`src-${process.pid}`, vmArgv(vm), dir);
  const s2d = new PassThrough();
  const d2s = new PassThrough();
  // a notice written after the test closed the channel must not become an uncaught error
  d2s.on('error', () => undefined);
  s2d.on('error', () => undefined);
  const peer = new ControlClient(d2s, (l) => void s2d.write(l));
  let gotDest: (q: LaunchedQemu) => void = () => undefined;
  const dest = new Promise<LaunchedQemu>((r) => (gotDest = r));
  const received = migrateReceive(s2d, (l) => void d2s.write(l), {
    runDir: dir,
    diskDir: dstDir,
    onLaunched: (q) => gotDest(q),
    // the destination QEMU in the tests' group, so that stopAllQemus() ends it too
    launch: childLauncher(testQemus),
    ...recv,
  });
  return {
    dir,
    srcDir,
    dstDir,
    vm,
    source,
    peer,
    received,
    dest,
    closeChannel: () => s2d.end(),
    cleanup: async () => {
      s2d.end();
      d2s.end();
      await source.stop(1000);
      const r = await Promise.race([received, new Promise<null>((res) => setTimeout(() => res(null), 3000))]);
      if (r?.outcome === 'running' && r.pid) {
        try {
          process.kill(r.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    },
  };
}

/** Byte-compares two images with qemu-img compare; "" when identical, else its output. */
export function compareImages(a: string, b: string): string {
  const r = spawnSync('/usr/bin/qemu-img', ['compare', '-U', '-f', 'qcow2', '-F', 'qcow2', a, b], { encoding: 'utf8' });
  return r.status === 0 ? '' : `rc=${r.status} ${r.stdout}${r.stderr}`;
}


/** qemu-io on an image no QEMU has open (e.g. "write -P 0xab 0 64k"); throws on failure. */
export function writeOffline(file: string, cmd: string): void {
  const r = spawnSync('/usr/bin/qemu-io', ['-f', 'qcow2', '-c', cmd, file], { encoding: 'utf8' });
  if (r.status !== 0 || !/^wrote \d+\/\d+ bytes/m.test(r.stdout)) throw new Error(`qemu-io ${cmd} ${file}: ${r.stdout}${r.stderr}`);
}

/**
 * The hooks every migration suite needs, registered once: QEMU present, the pair a test started
 * cleaned up after it, every QEMU stopped and the suite's directory removed at the end.
 */
export function migrationSuite(tag: string, finally_: () => void = () => {}): { dir: string; start: typeof startPair } {
  const dir = makeDir(tag);
  let current: Pair | null = null;
  before(() => requireQemu());
  afterEach(async () => {
    await current?.cleanup();
    current = null;
  });
  after(async () => {
    finally_();
    await stopAllQemus();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, start: async (...args) => (current = await startPair(...args)) };
}
