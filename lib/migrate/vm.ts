/**
 * The VM as the destination must rebuild it. xl sends the domain's config in the migration stream
 * and the receiver builds the device model from it; here the source's QEMU is asked over QMP
 * (machine type, accelerator, memory, local disks), and one builder makes the QEMU argv from
 * that description, so both ends agree on the device layout the migration stream expects.
 */
import type { QMPClient } from '../qmp/client.js';
import type { MigrateDisk, VmDescription } from './types.js';

interface QueryBlockEntry {
  device: string;
  qdev?: string;
  removable?: boolean;
  inserted?: {
    file: string;
    drv: string;
    ro?: boolean;
    image?: {
      'virtual-size': number;
      format?: string;
      'backing-filename'?: string;
      'full-backing-filename'?: string;
      'backing-filename-format'?: string;
    };
  };
}

/** QEMU escapes a comma inside an option value by doubling it. */
function optValue(s: string): string {
  return s.replace(/,/g, ',,');
}

/** "ide1-hd0" → 2: the IDE position QEMU names a drive after when it was given no id. */
export function ideIndexFromName(device: string): number | null {
  const m = /^ide(\d)-(?:hd|cd)(\d)$/.exec(device);
  return m ? Number(m[1]) * 2 + Number(m[2]) : null;
}

/** The IDE position of a guest disk from its device's bus (ide.N) and unit; null when not IDE. */
async function ideIndexFromQom(qmp: QMPClient, qdev: string | undefined): Promise<number | null> {
  if (!qdev) return null;
  try {
    const bus = await qmp.execute<string>('qom-get', { path: qdev, property: 'parent_bus' });
    const unit = await qmp.execute<number>('qom-get', { path: qdev, property: 'unit' });
    const m = /\/ide\.(\d+)$/.exec(bus);
    return m && typeof unit === 'number' ? Number(m[1]) * 2 + unit : null;
  } catch {
    return null;
  }
}

/** The source's VM, from query-block, query-memory-size-summary, query-kvm and /machine's type. */
export async function describeSource(qmp: QMPClient): Promise<VmDescription> {
  const blocks = await qmp.execute<QueryBlockEntry[]>('query-block');
  const disks: MigrateDisk[] = [];
  let next = 0;
  for (const b of blocks) {
    const ins = b.inserted;
    // an empty CD-ROM drive holds nothing to mirror; removable media stay out of the mirror
    if (!ins || b.removable === true || !ins.image) continue;
    const index = (await ideIndexFromQom(qmp, b.qdev)) ?? ideIndexFromName(b.device) ?? next;
    next = index + 1;
    const d: MigrateDisk = { device: b.device, index, file: ins.file, format: ins.image.format ?? ins.drv, size: ins.image['virtual-size'] };
    const backing = ins.image['full-backing-filename'] ?? ins.image['backing-filename'];
    if (backing) {
      d.backing = backing;
      d.backingFormat = ins.image['backing-filename-format'] ?? d.format;
    }
    disks.push(d);
  }
  const mem = await qmp.execute<{ 'base-memory': number }>('query-memory-size-summary');
  const kvm = await qmp.execute<{ enabled: boolean }>('query-kvm');
  const type = await qmp.execute<string>('qom-get', { path: '/machine', property: 'type' });
  return {
    machine: type.replace(/-machine$/, ''),
    accel: kvm.enabled ? 'kvm' : 'tcg',
    memoryMiB: Math.round(mem['base-memory'] / (1024 * 1024)),
    disks,
  };
}

/**
 * The QEMU argv (without the binary) for `vm`, its disks at `files` (same order). The source of a
 * test is started from the same builder, so the two ends have the same devices.
 */
export function vmArgv(vm: VmDescription, files: readonly string[] = vm.disks.map((d) => d.file)): string[] {
  const argv = ['-machine', vm.machine, '-accel', vm.accel, '-nodefaults', '-no-user-config', '-display', 'none', '-m', String(vm.memoryMiB)];
  vm.disks.forEach((d, i) => {
    argv.push('-drive', `if=ide,index=${d.index},id=${optValue(d.device)},media=disk,cache=writeback,file=${optValue(files[i] ?? d.file)},format=${d.format}`);
  });
  return argv;
}
