/**
 * Two real QEMUs on loopback set up the way libxl 4.17 starts a COLO primary and secondary
 * (spec §5.3 drive strings, `-machine pc` instead of Xen's machine), for the replication tests.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ColoDisk } from '../../lib/colo/qdisk.js';
import { parseDiskSpec } from '../../lib/xlu/disk/parse.js';
import { deviceDiskSetdefault } from '../../lib/libxl/disk.js';
import { libxlHost } from '../../lib/libxl/ctx.js';
import { buildDiskArgs } from '../../lib/libxl/dm/disk-args.js';
import { XenDiskReplication } from '../../lib/colo/replication.js';
import type { ColoSide } from '../../lib/colo/errors.js';
import { loggerFrom } from '../../lib/util/log.js';
import {
  commonArgs,
  createImage,
  freePort,
  libxlColoDriveArgs,
  QEMU_IMG,
  qemuImg,
  type QemuProcess,
  startQemu,
  type TestColoDisk,
} from '../support/qemu.js';

export interface PairDisk extends TestColoDisk {
  primaryImage: string;
}

export class ColoPair {
  readonly dir = mkdtempSync(join(tmpdir(), 'colo-xl-pair-'));
  primary!: QemuProcess;
  secondary!: QemuProcess;
  repl!: XenDiskReplication;
  disks: PairDisk[] = [];
  port = 0;
  readonly steps: Array<{ side: string; step: string; ms: number }> = [];

  /**
   * vdevs hda, hdb, … (IDE index i, devid 768 + 64·i), exports e1, e2, … The QEMUs get this
   * project's device-model disk arguments, or with `libxlLiteral` libxl 4.17's exact strings.
   */
  static async start(nDisks: number, opts: { libxlLiteral?: boolean } = {}): Promise<ColoPair> {
    const p = new ColoPair();
    p.libxlLiteral = opts.libxlLiteral ?? false;
    p.port = await freePort();
    for (let i = 0; i < nDisks; i++) {
      p.disks.push({
        index: i,
        devid: 768 + 64 * i,
        exportName: `e${i + 1}`,
        primaryImage: createImage(join(p.dir, `primary-${i}.qcow2`)),
        target: createImage(join(p.dir, `secondary-${i}.qcow2`)),
        activeDisk: createImage(join(p.dir, `active-${i}.qcow2`)),
        hiddenDisk: createImage(join(p.dir, `hidden-${i}.qcow2`)),
      });
    }
    p.secondary = await p.startSecondary('secondary');
    p.primary = await startQemu('primary', [...commonArgs(), ...p.driveArgs('primary')], p.dir);
    const logger = loggerFrom((_level, _message, f) => void p.steps.push({ side: f.side as ColoSide, step: String(f.step), ms: Number(f.ms) }));
    p.repl = new XenDiskReplication(p.primary.qmp, p.secondary.qmp, p.coloDisks(), { logger });
    return p;
  }

  libxlLiteral = false;

  /** xl disk specs → libxl_device_disk (parser, setdefault) → the device-model builder's args. */
  driveArgs(role: 'primary' | 'secondary'): string[] {
    if (this.libxlLiteral) {
      return this.disks.flatMap((d) => libxlColoDriveArgs(role, role === 'primary' ? { ...d, target: d.primaryImage } : d));
    }
    const disks = this.disks.map((d) => {
      const disk = parseDiskSpec(
        `vdev=hd${'abcd'[d.index]},format=qcow2,colo,colo-host=127.0.0.1,colo-port=${this.port},colo-export=${d.exportName},` +
          `active-disk=${d.activeDisk},hidden-disk=${d.hiddenDisk},target=${role === 'primary' ? d.primaryImage : d.target}`,
      );
      // libxl_domain_create_restore sets it on every disk of a COLO secondary (spec §5.4)
      disk.colo_restore_enable = role === 'secondary';
      deviceDiskSetdefault(libxlHost(), 0, disk, false, 'hvm');
      return disk;
    });
    const { args, warnings } = buildDiskArgs(disks, { hdtype: 'ide', domid: role === 'primary' ? 1 : 2 });
    if (warnings.length > 0) throw new Error(`device-model builder: ${warnings.join('; ')}`);
    return args;
  }

  /** A secondary QEMU; `fresh` recreates its images (a new secondary for a resume). */
  async startSecondary(name: string, fresh = false): Promise<QemuProcess> {
    if (fresh) {
      for (const d of this.disks) {
        d.target = createImage(join(this.dir, `${name}-${d.index}.qcow2`));
        d.activeDisk = createImage(join(this.dir, `${name}-active-${d.index}.qcow2`));
        d.hiddenDisk = createImage(join(this.dir, `${name}-hidden-${d.index}.qcow2`));
      }
    }
    return await startQemu(name, [...commonArgs(), ...this.driveArgs('secondary')], this.dir);
  }

  coloDisks(): ColoDisk[] {
    return this.disks.map((d) => ({ devid: d.devid, exportName: d.exportName, host: '127.0.0.1', port: this.port }));
  }

  /** The primary's disk as it is now, as a raw file (flushed first; read with a shared lock). */
  async snapshotPrimary(d: PairDisk, name: string): Promise<string> {
    await this.primary.qemuIo(d.exportName, 'flush');
    const out = join(this.dir, `${name}.raw`);
    qemuImg('convert', '-U', '-f', 'qcow2', '-O', 'raw', d.primaryImage, out);
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([this.primary?.stop(1000), this.secondary?.stop(1000)]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `qemu-img compare`: null when identical, else its description of the first difference. */
export function imageDifference(rawRef: string, qcow2: string): string | null {
  const r = spawnSync(QEMU_IMG, ['compare', '-U', '-f', 'raw', '-F', 'qcow2', rawRef, qcow2], { encoding: 'utf8' });
  if (r.status === 0) return null;
  return `${r.stdout}${r.stderr}`.trim() || `exit ${r.status}`;
}
