/**
 * `virsh domxml-from-native xen-xl` / `domxml-to-native xen-xl` for the keys colo-xl supports:
 * the standard domain parts written as libvirt's libxl driver writes them (xenParseXL,
 * xenParseXLDisk, xenParseMem, xenParseXLOS in src/libxl/xen_xl.c and xen_common.c), plus the
 * COLO extension of colo-xml.ts under <metadata>. The reverse direction reads that subset back
 * into an xl.cfg whose disks parse to the very same libxl_device_disk values.
 */
import { MEMKB_DEFAULT, type DomainConfig } from '../libxl/types/domain-config.js';
import { deviceDiskInit, type DeviceDisk, type DiskBackend, type DiskFormat } from '../libxl/types/disk.js';
import { COLO_NS, COLO_PREFIX, DomXmlError, needsColoElement, readColoDisk, writeColoDisk, type GuestDiskInfo } from './colo-xml.js';
import { formatXlCfg, formatXlDisk, type XlSetting } from '../xlu/format.js';
import { parseXml, XmlWriter, type XmlElement } from './xml.js';

export { DomXmlError } from './colo-xml.js';

/**
 * The xl.cfg keys domainConfigToXml carries into the XML; any other key a file sets is reported
 * by the caller as not converted rather than dropped without a word.
 */
export const XML_CONVERTED_KEYS: ReadonlySet<string> = new Set([
  'type', 'builder', 'name', 'uuid', 'memory', 'maxmem', 'vcpus', 'maxvcpus', 'boot', 'on_poweroff', 'on_reboot', 'on_crash', 'disk',
]);

/** The format names virsh uses for xl configs. */
export const XEN_XL_FORMAT = 'xen-xl';

// virDomainDiskBus as xenParseXLDisk picks it for an HVM guest
function diskBus(vdev: string): string {
  if (vdev.startsWith('xvd')) return 'xen';
  if (vdev.startsWith('sd')) return 'scsi';
  return 'ide';
}

const DRIVER_OF_BACKEND: Record<DiskBackend, string> = { unknown: 'qemu', qdisk: 'qemu', standalone: 'qemu', phy: 'phy', tap: 'tap' };
const BOOT_DEVS: Record<string, string> = { a: 'fd', c: 'hd', d: 'cdrom', n: 'network' };
const LIFECYCLE: Record<string, string> = {
  destroy: 'destroy', restart: 'restart', restart_rename: 'rename-restart', preserve: 'preserve',
  coredump_destroy: 'coredump-destroy', coredump_restart: 'coredump-restart',
};

/** libvirt's format name for a disk, null when the driver names none (an empty CD-ROM). */
export function libvirtFormat(f: DiskFormat): string | null {
  return f === 'empty' || f === 'unknown' ? null : f;
}

function writeDisk(w: XmlWriter, d: DeviceDisk): void {
  const block = d.backend === 'phy';
  w.open('disk', [['type', block ? 'block' : 'file'], ['device', d.is_cdrom ? 'cdrom' : 'disk']]);
  w.empty('driver', [
    ['name', DRIVER_OF_BACKEND[d.backend]],
    ['type', libvirtFormat(d.format)],
    ['discard', d.discard_enable === null ? null : d.discard_enable ? 'unmap' : 'ignore'],
  ]);
  if (d.pdev_path !== null && d.pdev_path !== '') w.empty('source', [[block ? 'dev' : 'file', d.pdev_path]]);
  if (d.backend_domname !== null) w.empty('backenddomain', [['name', d.backend_domname]]);
  w.empty('target', [['dev', d.vdev], ['bus', diskBus(d.vdev!)]]);
  if (!d.readwrite) w.empty('readonly');
  w.close('disk');
}

/** The libvirt domain XML for a parsed xl.cfg (xenParseXL's subset, plus the COLO extension). */
export function domainConfigToXml(d: DomainConfig): string {
  // only the HVM <os> is written so far: a PV or PVH guest would come out as something it is not
  if (d.c_info.type !== 'hvm') throw new DomXmlError(`type = "${d.c_info.type}" guests are not converted to libvirt XML yet (only HVM)`);
  const seen = new Set<string>();
  for (const disk of d.disks) {
    if (seen.has(disk.vdev!)) throw new DomXmlError(`two disks use vdev ${disk.vdev}: libvirt needs each <target dev> once`);
    seen.add(disk.vdev!);
  }
  const w = new XmlWriter();
  w.open('domain', [['type', 'xen']]);
  if (d.c_info.name !== null) w.text('name', d.c_info.name);
  w.text('uuid', d.c_info.uuid);
  const colo = d.disks.filter(needsColoElement);
  if (colo.length > 0) {
    w.open('metadata');
    w.open(`${COLO_PREFIX}:replication`, [[`xmlns:${COLO_PREFIX}`, COLO_NS]]);
    for (const disk of colo) writeColoDisk(w, disk, libvirtFormat(disk.format) ?? 'raw');
    w.close(`${COLO_PREFIX}:replication`).close('metadata');
  }
  const b = d.b_info;
  if (b.max_memkb !== MEMKB_DEFAULT) w.text('memory', String(b.max_memkb), [['unit', 'KiB']]);
  if (b.target_memkb !== MEMKB_DEFAULT) w.text('currentMemory', String(b.target_memkb), [['unit', 'KiB']]);
  if (b.max_vcpus > 0) {
    const cur = b.avail_vcpus_allocated ? b.avail_vcpus.length : b.max_vcpus;
    w.text('vcpu', String(b.max_vcpus), [['placement', 'static'], ['current', cur > 0 && cur !== b.max_vcpus ? cur : null]]);
  }
  w.open('os').text('type', 'hvm', [['arch', 'x86_64'], ['machine', 'xenfv']]);
  for (const c of d.b_info.hvm.boot ?? '') w.empty('boot', [['dev', BOOT_DEVS[c] ?? 'hd']]);
  w.close('os');
  for (const [key, action] of [['on_poweroff', d.on_poweroff], ['on_reboot', d.on_reboot], ['on_crash', d.on_crash]] as const) {
    const v = LIFECYCLE[action];
    // libvirt's schema takes coredump-* for on_crash only
    if (v === undefined || (key !== 'on_crash' && v.startsWith('coredump'))) {
      throw new DomXmlError(`${key} = "${action.replaceAll('_', '-')}" has no libvirt <${key}> equivalent`);
    }
    w.text(key, v);
  }
  w.open('devices');
  for (const disk of d.disks) writeDisk(w, disk);
  w.close('devices').close('domain');
  return w.toString();
}

// ---------------------------------------------------------------- XML → xl.cfg

const at = (el: XmlElement): string => `<${el.name}> (line ${el.line})`;

function one(parent: XmlElement, local: string): XmlElement | undefined {
  const found = parent.children.filter((c) => c.ns === '' && c.local === local);
  if (found.length > 1) throw new DomXmlError(`${at(found[1]!)}: <${local}> given twice in ${at(parent)}`);
  return found[0];
}

const FORMATS: Record<string, DiskFormat> = { raw: 'raw', qcow: 'qcow', qcow2: 'qcow2', vhd: 'vhd', qed: 'qed' };

// xenFormatXLDisk, read the other way round
function readDisk(el: XmlElement): GuestDiskInfo {
  const type = el.attrs.get('type') ?? 'file';
  if (type !== 'file' && type !== 'block') throw new DomXmlError(`${at(el)}: type='${type}' disks cannot be expressed in an xl.cfg by colo-xl`);
  const device = el.attrs.get('device') ?? 'disk';
  if (device !== 'disk' && device !== 'cdrom') throw new DomXmlError(`${at(el)}: device='${device}' is not a disk or a cdrom`);
  const d = deviceDiskInit();
  d.is_cdrom = device === 'cdrom' ? 1 : 0;
  d.removable = d.is_cdrom;
  const drv = one(el, 'driver');
  const name = drv?.attrs.get('name') ?? 'qemu';
  const backends: Record<string, DiskBackend> = { qemu: 'unknown', phy: 'phy', tap: 'tap' };
  const backend = Object.hasOwn(backends, name) ? backends[name] : undefined;
  if (backend === undefined) throw new DomXmlError(`${at(drv!)}: driver name='${name}' is not qemu, phy or tap`);
  if ((type === 'block') !== (backend === 'phy')) throw new DomXmlError(`${at(el)}: type='${type}' does not go with <driver name='${name}'>`);
  d.backend = backend;
  const fmt = drv?.attrs.get('type');
  if (fmt !== undefined && !Object.hasOwn(FORMATS, fmt)) throw new DomXmlError(`${at(drv!)}: driver type='${fmt}' is not a format xl knows`);
  d.format = fmt === undefined ? 'empty' : FORMATS[fmt]!;
  const discard = drv?.attrs.get('discard');
  if (discard !== undefined) {
    if (discard !== 'unmap' && discard !== 'ignore') throw new DomXmlError(`${at(drv!)}: discard='${discard}' is not unmap or ignore`);
    d.discard_enable = discard === 'unmap';
  }
  const src = one(el, 'source');
  if (src !== undefined) {
    const path = src.attrs.get(type === 'block' ? 'dev' : 'file');
    if (path === undefined) throw new DomXmlError(`${at(src)}: a ${type} disk needs ${type === 'block' ? 'dev' : 'file'}=`);
    d.pdev_path = path;
  }
  const target = one(el, 'target');
  const dev = target?.attrs.get('dev');
  if (dev === undefined) throw new DomXmlError(`${at(el)}: <target dev> is missing`);
  d.vdev = dev;
  const be = one(el, 'backenddomain');
  if (be !== undefined) d.backend_domname = be.attrs.get('name') ?? null;
  d.readwrite = one(el, 'readonly') === undefined ? 1 : 0;
  if (d.is_cdrom && d.readwrite) throw new DomXmlError(`${at(el)}: an xl CD-ROM is always read-only; add <readonly/>`);
  return { target: dev, format: fmt ?? null, disk: d };
}

export interface ToNativeResult {
  cfg: string;
  /** Elements colo-xl does not carry over into the xl.cfg, named so nothing is dropped silently. */
  ignored: string[];
}

const KNOWN_TOP = ['name', 'uuid', 'metadata', 'memory', 'currentMemory', 'vcpu', 'os', 'on_poweroff', 'on_reboot', 'on_crash', 'devices'];

/** An xl.cfg for a libvirt domain document. Throws XmlError / DomXmlError naming the element. */
export function domainXmlToXlCfg(xml: string): ToNativeResult {
  const root = parseXml(xml);
  if (root.ns !== '' || root.local !== 'domain') throw new DomXmlError(`${at(root)}: the document element must be <domain>`);
  const dtype = root.attrs.get('type');
  if (dtype !== 'xen') throw new DomXmlError(`${at(root)}: type='${dtype ?? ''}' is not a xen domain`);
  const ignored: string[] = [];
  for (const c of root.children) if (c.ns !== '' || !KNOWN_TOP.includes(c.local)) ignored.push(at(c));
  const s: XlSetting[] = [];
  const name = one(root, 'name');
  if (name === undefined) throw new DomXmlError(`${at(root)}: <name> is missing`);
  s.push(['name', name.text]);
  const uuid = one(root, 'uuid');
  if (uuid !== undefined) s.push(['uuid', uuid.text.trim()]);
  s.push(['type', 'hvm']);
  const mib = (el: XmlElement | undefined): bigint | null => {
    if (el === undefined) return null;
    const unit = el.attrs.get('unit') ?? 'KiB';
    const text = el.text.trim();
    if (!/^[0-9]+$/.test(text)) throw new DomXmlError(`${at(el)}: '${text}' is not a number`);
    const scale: Record<string, bigint> = { KiB: 1n, k: 1n, KB: 1n, MiB: 1024n, M: 1024n, GiB: 1024n * 1024n, G: 1024n * 1024n };
    if (!Object.hasOwn(scale, unit)) throw new DomXmlError(`${at(el)}: unit='${unit}' is not supported`);
    const kib = BigInt(text) * scale[unit]!;
    if (kib % 1024n !== 0n) throw new DomXmlError(`${at(el)}: ${kib} KiB is not a whole number of MiB, which xl.cfg needs`);
    return kib / 1024n;
  };
  const max = mib(one(root, 'memory'));
  const cur = mib(one(root, 'currentMemory'));
  if (cur !== null) s.push(['memory', cur]);
  if (max !== null && max !== cur) s.push(['maxmem', max]);
  const vcpu = one(root, 'vcpu');
  if (vcpu !== undefined) {
    const m = vcpu.text.trim();
    const c = vcpu.attrs.get('current') ?? m;
    if (!/^[0-9]+$/.test(m) || !/^[0-9]+$/.test(c)) throw new DomXmlError(`${at(vcpu)}: vCPU counts must be numbers`);
    s.push(['vcpus', Number(c)]);
    if (c !== m) s.push(['maxvcpus', Number(m)]);
  }
  const os = one(root, 'os');
  const ostype = os && one(os, 'type');
  if (ostype === undefined || ostype.text.trim() !== 'hvm') {
    throw new DomXmlError(`${ostype ? at(ostype) : '<os><type>'}: colo-xl converts hvm guests only`);
  }
  const boot = os!.children.filter((c) => c.local === 'boot').map((b) => {
    const dev = b.attrs.get('dev') ?? '';
    const letter = Object.keys(BOOT_DEVS).find((k) => BOOT_DEVS[k] === dev);
    if (letter === undefined) throw new DomXmlError(`${at(b)}: boot dev='${dev}' has no xl boot letter`);
    return letter;
  });
  if (boot.length > 0) s.push(['boot', boot.join('')]);
  for (const key of ['on_poweroff', 'on_reboot', 'on_crash']) {
    const el = one(root, key);
    if (el === undefined) continue;
    if (!Object.values(LIFECYCLE).includes(el.text.trim())) throw new DomXmlError(`${at(el)}: '${el.text.trim()}' is not an xl action`);
    s.push([key, el.text.trim()]);
  }
  const disks = readDisks(root, ignored);
  if (disks.length > 0) s.push(['disk', disks.map(formatXlDisk)]);
  return { cfg: formatXlCfg(s), ignored };
}

function readDisks(root: XmlElement, ignored: string[]): DeviceDisk[] {
  const devices = one(root, 'devices');
  const infos: GuestDiskInfo[] = [];
  for (const c of devices?.children ?? []) {
    if (c.ns === '' && c.local === 'disk') infos.push(readDisk(c));
    else ignored.push(at(c));
  }
  const byTarget = new Map<string, GuestDiskInfo>();
  for (const g of infos) {
    if (byTarget.has(g.target)) throw new DomXmlError(`<target dev='${g.target}'> is used by two disks`);
    byTarget.set(g.target, g);
  }
  const meta = one(root, 'metadata');
  const done = new Set<string>();
  for (const m of meta?.children ?? []) {
    if (m.ns !== COLO_NS) continue;
    if (m.local !== 'replication') throw new DomXmlError(`${at(m)}: unknown element of namespace ${COLO_NS}`);
    for (const cd of m.children) {
      if (cd.ns !== COLO_NS || cd.local !== 'disk') throw new DomXmlError(`${at(cd)}: only <${COLO_PREFIX}:disk> belongs in ${at(m)}`);
      const target = cd.attrs.get('target');
      const g = target === undefined ? undefined : byTarget.get(target);
      if (g === undefined) throw new DomXmlError(`${at(cd)}: target='${target ?? ''}' names no <disk> of the domain`);
      if (done.has(target!)) throw new DomXmlError(`${at(cd)}: a second <${COLO_PREFIX}:disk> for target ${target}`);
      done.add(target!);
      readColoDisk(cd, g);
    }
  }
  return infos.map((g) => g.disk);
}
