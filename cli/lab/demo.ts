/**
 * The `colo-xl demo` flow: a primary and a secondary domain whose COLO disk nodes go into the
 * embedded xenstore as libxl writes them, two QEMUs started with this project's device-model disk
 * arguments for them, replicating the disk the libxl way; a known pattern is
 * written on the primary and checkpointed, the primary is SIGKILLed, the secondary takes over,
 * and its disk is checked block by block against what the primary had at the checkpoint.
 */
import { randomUUID } from 'node:crypto';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ColoXlError } from '../../lib/errors.js';
import { parseDiskSpec } from '../../lib/xlu/disk/parse.js';
import type { DeviceDisk } from '../../lib/libxl/types/disk.js';
import { buildDiskArgs } from '../../lib/libxl/dm/disk-args.js';
import { deviceDiskDevNumber } from '../../lib/libxl/devnum.js';
import { deviceDiskAdd, deviceDiskSetdefault, diskFromXenstore } from '../../lib/libxl/disk.js';
import { libxlCtx, libxlHost } from '../../lib/libxl/ctx.js';
import { domainMake } from '../../lib/libxl/domain-make.js';
import { EmbeddedXenstored } from '../../lib/xenstore/server/embedded.js';
import { XenDiskReplication } from '../../lib/colo/replication.js';
import { commonArgs, createImage, freePort, ioVerdict, pickAccel, QEMU_BIN, QEMU_IMG, qemuImg, QemuGroup } from '../../lib/qemu/process.js';

export interface DemoStep {
  name: string;
  /** Since the start of the demo. */
  atMs: number;
  ms: number;
  detail: string;
}

export interface DemoResult {
  accel: 'kvm' | 'tcg';
  workDir: string;
  steps: DemoStep[];
  setupMs: number;
  checkpointMs: number[];
  failoverMs: number;
  blocks: { checked: number; matching: number; bad: number[] };
  identical: boolean;
  pass: boolean;
}

const BLOCK = 64 * 1024;
const BLOCKS = 32;
/** Block i holds byte (0x11 + 7·i) mod 256, never 0 (which an unwritten block reads as). */
const pattern = (i: number): number => ((0x11 + 7 * i) % 255) + 1;

/** The Debian packages the demo needs, with what is missing. */
export function missingTools(): Array<{ path: string; pkg: string }> {
  return [
    { path: QEMU_BIN, pkg: 'qemu-system-x86' },
    { path: QEMU_IMG, pkg: 'qemu-utils' },
  ].filter(({ path }) => {
    try {
      accessSync(path, constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
}

/** libxl_device_disk for one side, from its xl disk spec, through setdefault. */
function coloDisk(spec: string, secondary: boolean): DeviceDisk {
  const d = parseDiskSpec(spec, { source: 'colo-xl demo' });
  // libxl_domain_create_restore marks every disk of a COLO secondary (spec §5.4)
  d.colo_restore_enable = secondary;
  deviceDiskSetdefault(libxlHost(), 0, d, false, 'hvm');
  return d;
}

export async function runDemo(onStep: (s: DemoStep) => void = () => undefined): Promise<DemoResult> {
  const accel = pickAccel();
  const workDir = mkdtempSync(join(tmpdir(), 'colo-xl-demo-'));
  // the demo's own QEMUs: all of them end with it, whatever step fails
  const qemus = new QemuGroup();
  const t0 = performance.now();
  const steps: DemoStep[] = [];
  const step = async <T>(name: string, run: () => Promise<T> | T, detail: (r: T) => string): Promise<T> => {
    const t = performance.now();
    const r = await run();
    const s = { name, atMs: t - t0, ms: performance.now() - t, detail: detail(r) };
    steps.push(s);
    onStep(s);
    return r;
  };
  try {
    const img = (n: string) => join(workDir, n);
    await step('images', () => ['primary', 'secondary', 'active', 'hidden'].map((n) => createImage(img(`${n}.qcow2`))), (r) => `${r.length} qcow2 images of 64 MiB in ${workDir}`);
    const port = await freePort();
    const colo = `colo,colo-host=127.0.0.1,colo-port=${port},colo-export=e1,active-disk=${img('active.qcow2')},hidden-disk=${img('hidden.qcow2')}`;
    const specs = {
      primary: `vdev=hda,format=qcow2,${colo},target=${img('primary.qcow2')}`,
      secondary: `vdev=hda,format=qcow2,${colo},target=${img('secondary.qcow2')}`,
    };
    const devid = deviceDiskDevNumber('hda').devid;
    await step(
      'xenstore',
      async () => {
        const store = new EmbeddedXenstored();
        const xs = store.client();
        try {
          const ctx = libxlCtx(xs, { userdataDir: join(workDir, 'userdata') });
          // the secondary is what `migrate-receive --colo` creates: "<name>--incoming"
          for (const [domid, name, spec] of [[1, 'colo-demo', specs.primary], [2, 'colo-demo--incoming', specs.secondary]] as const) {
            await domainMake(ctx, { domid, name, uuid: randomUUID(), type: 'hvm' });
            await deviceDiskAdd(ctx, domid, parseDiskSpec(spec, { source: 'colo-xl demo' }), { updateJson: false, wait: false });
          }
          const back = await diskFromXenstore(ctx, `/libxl/2/device/vbd/${devid}`);
          if (!back.colo_enable || back.colo_export !== 'e1' || back.colo_port !== port || back.active_disk !== img('active.qcow2')) {
            throw new ColoXlError('LAB_DEMO_READBACK', `the COLO keys did not read back from xenstore: ${JSON.stringify({ ...back, base: String(back.base) })}`);
          }
          return back;
        } finally {
          await xs.close();
          await store.close();
        }
      },
      (b) => `vbd ${devid} of domains 1 and 2 (backend ${b.backend}) with colo-host ${b.colo_host}:${b.colo_port}, colo-export ${b.colo_export}, read back`,
    );
    const args = await step(
      'device models',
      () => ({
        primary: buildDiskArgs([coloDisk(specs.primary, false)], { hdtype: 'ide', domid: 1 }).args,
        secondary: buildDiskArgs([coloDisk(specs.secondary, true)], { hdtype: 'ide', domid: 2 }).args,
      }),
      (a) => `primary ${a.primary.join(' ')}\nsecondary ${a.secondary.join(' ')}`,
    );
    const [S, P] = await step(
      'start QEMUs',
      async () => {
        const s = await qemus.spawn('secondary', [...commonArgs(accel), ...args.secondary], workDir);
        const p = await qemus.spawn('primary', [...commonArgs(accel), ...args.primary], workDir);
        return [s, p] as const;
      },
      ([s, p]) => `secondary pid ${s.pid}, primary pid ${p.pid} (accel ${accel}, QEMU ${p.qmp.qemuVersion})`,
    );
    const repl = new XenDiskReplication(P.qmp, S.qmp, [{ devid, exportName: 'e1', host: '127.0.0.1', port }]);
    const ts = performance.now();
    await step('probe', () => repl.probe(), () => 'both QEMUs have replication, quorum, NBD and the COLO commands');
    await step('secondary set-up', () => repl.setupSecondary(), () => `nbd-server-start 127.0.0.1:${port}, nbd-server-add e1, xen-set-replication`);
    await step('primary set-up', () => repl.setupPrimary(), () => `drive_add colo_node${devid} over NBD, x-blockdev-change, xen-set-replication`);
    const setupMs = performance.now() - ts;
    await step(
      'write pattern',
      async () => {
        for (let i = 0; i < BLOCKS; i++) {
          const v = ioVerdict(await P.qemuIo('e1', `write -P ${pattern(i)} ${i * BLOCK} ${BLOCK}`));
          if (v !== 'ok') throw new ColoXlError('LAB_DEMO_WRITE', `primary write of block ${i}: ${v}`);
        }
      },
      () => `${BLOCKS} blocks of 64 KiB, each its own byte, on the primary`,
    );
    const checkpointMs: number[] = [];
    for (let n = 0; n < 3; n++) {
      const c = await step(`checkpoint ${n + 1}`, () => repl.checkpoint(), (t) => `secondary ${t.secondaryMs.toFixed(1)} ms, primary ${t.primaryMs.toFixed(1)} ms`);
      checkpointMs.push(c.totalMs);
    }
    await step('reference', async () => {
      await P.qemuIo('e1', 'flush');
      qemuImg('convert', '-U', '-f', 'qcow2', '-O', 'raw', img('primary.qcow2'), img('reference.raw'));
    }, () => 'the primary disk as of the last checkpoint, saved as raw');
    await step('write after checkpoint', () => P.qemuIo('e1', `write -P 0xee 0 ${BLOCK}`), () => 'block 0 overwritten on the primary: must not survive the failover');
    const tk = performance.now();
    await step('kill primary', () => P.kill('SIGKILL'), () => `SIGKILL to pid ${P.pid}`);
    await step('failover', () => repl.failoverSecondary(), () => 'xen-set-replication failover, nbd-server-stop, active+hidden committed');
    await S.qmp.execute('cont');
    const first = ioVerdict(await S.qemuIo('top-colo', `read -P ${pattern(0)} 0 ${BLOCK}`));
    const failoverMs = performance.now() - tk;
    const blocks = await step(
      'verify online',
      async () => {
        const bad: number[] = first === 'ok' ? [] : [0];
        for (let i = 1; i < BLOCKS; i++) {
          if (ioVerdict(await S.qemuIo('top-colo', `read -P ${pattern(i)} ${i * BLOCK} ${BLOCK}`)) !== 'ok') bad.push(i);
        }
        return { checked: BLOCKS, matching: BLOCKS - bad.length, bad };
      },
      (b) => `${b.matching}/${b.checked} blocks read back from the running secondary hold the checkpointed pattern`,
    );
    await S.stop();
    const identical = await step('verify offline', () => sameRawImage(img('reference.raw'), img('secondary.qcow2'), workDir), (same) =>
      same ? "the secondary's disk image equals the reference byte for byte" : "the secondary's disk image DIFFERS from the reference",
    );
    return { accel, workDir, steps, setupMs, checkpointMs, failoverMs, blocks, identical, pass: identical && blocks.bad.length === 0 };
  } finally {
    await qemus.stopAll();
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** Converts `qcow2` to raw and compares it with `ref` in 64 KiB blocks. */
function sameRawImage(ref: string, qcow2: string, dir: string): boolean {
  const out = join(dir, 'secondary.raw');
  qemuImg('convert', '-f', 'qcow2', '-O', 'raw', qcow2, out);
  const a = readFileSync(ref);
  const b = readFileSync(out);
  if (a.length !== b.length) return false;
  for (let off = 0; off < a.length; off += BLOCK) {
    if (!a.subarray(off, off + BLOCK).equals(b.subarray(off, off + BLOCK))) return false;
  }
  return true;
}
