/**
 * The COLO block-replication extension of a libvirt domain document, in the shape the libvirt
 * design thread on block replication settled on (seed 001):
 *
 * - a replication disk stacks two drivers on one file, so each layer is its own XML level
 *   (`<colo:secondary type='replication'>` over `<colo:backingStore>` qcow2 layers);
 * - a quorum drive has no direct source, only `<colo:backingStore>` children;
 * - references name `<target dev>` plus a persistent backingStore `index` (0 is the disk's own
 *   top layer), never a user-set alias;
 * - the secondary's exported base is not guest-visible, so it is a `<colo:blockdev>` sibling of
 *   the trees, with no target;
 * - every layer states its format; nothing is probed.
 *
 * Placement trade-off: libvirt's RNG has no room for foreign elements inside `<disk>`, and the
 * seed's `<disk type='replication'>` was never implemented, so the extension lives under
 * `<metadata>` in its own namespace. A stock libvirt accepts, stores and returns it verbatim and
 * runs the guest from the ordinary `<disk>` elements (the local image, no replication); only
 * colo-xl gives the metadata meaning. The cost is indirection: the COLO trees point at their disk
 * by target dev instead of being inside it, and libvirt cannot check that they stay consistent.
 *
 * The same element also carries the disk keys a libvirt `<disk>` has no words for (script,
 * direct-io-safe, trusted, specification, the qdisk/standalone backend), so that
 * cfg → XML → cfg keeps every key.
 */
import { ColoXlError } from '../errors.js';
import type { DeviceDisk, DiskBackend, DiskSpecification } from '../libxl/types/disk.js';
import { type AttrList, type XmlElement, XmlWriter } from './xml.js';

export const COLO_NS = 'urn:colo-xl:libvirt:colo:1';
export const COLO_PREFIX = 'colo';

/** A domain that cannot be converted either way (the message says what and where). */
export class DomXmlError extends ColoXlError {
  constructor(message: string) {
    super('LIBVIRT_DOMXML', message);
  }
}

/** Where libxl would build a replication tree: colo on and every companion key given. */
export function isCompleteColo(d: DeviceDisk): boolean {
  return (
    d.colo_enable === true && !d.is_cdrom && d.colo_host !== null && d.colo_port !== 0 &&
    d.colo_export !== null && d.active_disk !== null && d.hidden_disk !== null
  );
}

function hasColoKeys(d: DeviceDisk): boolean {
  return (
    d.colo_enable !== null || d.colo_host !== null || d.colo_port !== 0 || d.colo_export !== null ||
    d.active_disk !== null || d.hidden_disk !== null
  );
}

/** Whether the disk needs a `<colo:disk>` element at all. */
export function needsColoElement(d: DeviceDisk): boolean {
  return (
    hasColoKeys(d) || d.script !== null || d.direct_io_safe || d.trusted !== null ||
    d.specification !== 'unknown' || d.backend === 'qdisk' || d.backend === 'standalone' || d.pdev_path === ''
  );
}

const q = (n: string): string => `${COLO_PREFIX}:${n}`;
const yesNo = (b: boolean | null): string | null => (b === null ? null : b ? 'yes' : 'no');

/** Writes one `<colo:disk>` for a disk that needs it; `format` is the libvirt format name. */
export function writeColoDisk(w: XmlWriter, d: DeviceDisk, format: string): void {
  const target = d.vdev!;
  const complete = isCompleteColo(d);
  const keysOnly = !complete && hasColoKeys(d);
  const attrs: AttrList = [
    ['target', target],
    ['backend-type', d.backend === 'qdisk' || d.backend === 'standalone' ? d.backend : null],
    ['script', d.script],
    ['direct-io-safe', d.direct_io_safe ? 'yes' : null],
    ['trusted', yesNo(d.trusted)],
    ['specification', d.specification === 'unknown' ? null : d.specification],
    ['empty-source', d.pdev_path === '' ? 'yes' : null],
    ['colo', d.colo_enable === null ? null : d.colo_enable ? 'on' : 'off'],
  ];
  if (!complete && !keysOnly) {
    w.empty(q('disk'), attrs);
    return;
  }
  w.open(q('disk'), attrs);
  if (complete) {
    const exp = d.colo_export!;
    w.empty(q('nbd'), [['host', d.colo_host], ['port', d.colo_port], ['export', exp]]);
    w.open(q('primary'), [['type', 'quorum']]);
    w.empty(q('driver'), [['name', 'qemu'], ['type', 'quorum'], ['read-pattern', 'fifo'], ['vote-threshold', 1]]);
    w.open(q('backingStore'), [['type', 'file'], ['index', 1]]);
    w.empty(q('format'), [['type', format]]).empty(q('reference'), [['dev', target], ['index', 0]]);
    w.close(q('backingStore')).close(q('primary'));
    w.open(q('blockdev'), [['name', exp]]);
    w.empty(q('format'), [['type', format]]).empty(q('reference'), [['dev', target], ['index', 0]]);
    w.close(q('blockdev'));
    w.open(q('secondary'), [['type', 'replication'], ['mode', 'secondary']]);
    w.open(q('backingStore'), [['type', 'file'], ['index', 1]]);
    w.empty(q('format'), [['type', 'qcow2']]).empty(q('source'), [['file', d.active_disk]]);
    w.open(q('backingStore'), [['type', 'file'], ['index', 2]]);
    w.empty(q('format'), [['type', 'qcow2']]).empty(q('source'), [['file', d.hidden_disk]]);
    w.open(q('backingStore'), [['type', 'blockdev'], ['index', 3]]).empty(q('reference'), [['blockdev', exp]]);
    w.close(q('backingStore')).close(q('backingStore')).close(q('backingStore')).close(q('secondary'));
  } else {
    // Not a replication libxl would set up (COLO off, a key missing, or a CD-ROM): the keys alone.
    w.empty(q('keys'), [
      ['colo-host', d.colo_host], ['colo-port', d.colo_port === 0 ? null : d.colo_port], ['colo-export', d.colo_export],
      ['active-disk', d.active_disk], ['hidden-disk', d.hidden_disk],
    ]);
  }
  w.close(q('disk'));
}

// ---------------------------------------------------------------- reading

/** What the guest-visible `<disk>` a `<colo:disk>` points at says about itself. */
export interface GuestDiskInfo {
  target: string;
  /** libvirt format name of the disk's top layer, null when the driver states none. */
  format: string | null;
  disk: DeviceDisk;
}

const where = (el: XmlElement): string => `<${el.name}> (line ${el.line})`;

function only(el: XmlElement, allowed: readonly string[]): void {
  for (const k of el.attrs.keys()) {
    if (!allowed.includes(k)) throw new DomXmlError(`${where(el)}: unknown attribute ${k}`);
  }
}
function attr(el: XmlElement, name: string): string {
  const v = el.attrs.get(name);
  if (v === undefined) throw new DomXmlError(`${where(el)}: attribute ${name} is missing`);
  return v;
}
function expect(el: XmlElement, name: string, wanted: string, why: string): void {
  const v = attr(el, name);
  if (v !== wanted) throw new DomXmlError(`${where(el)}: ${name}='${v}' cannot be expressed by colo-xl (${why})`);
}
function kids(el: XmlElement, names: readonly string[]): XmlElement[] {
  const got = el.children;
  for (const c of got) {
    if (c.ns !== COLO_NS) throw new DomXmlError(`${where(c)} inside ${where(el)}: only elements of namespace ${COLO_NS} belong here`);
  }
  const seen = got.map((c) => c.local);
  if (seen.join(' ') !== names.join(' ')) {
    throw new DomXmlError(
      `${where(el)} must contain exactly ${names.map((n) => `<${COLO_PREFIX}:${n}>`).join(', ') || 'nothing'}` +
        ` in that order; it has ${seen.map((n) => `<${COLO_PREFIX}:${n}>`).join(', ') || 'nothing'}` +
        ' (colo-xl expresses only libxl\'s replication trees)',
    );
  }
  return got;
}
function intAttr(el: XmlElement, name: string): number {
  const v = attr(el, name);
  if (!/^-?[0-9]+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new DomXmlError(`${where(el)}: ${name}='${v}' is not an integer`);
  const n = Number(v);
  if (n === 0 || n < -2147483648 || n > 2147483647) throw new DomXmlError(`${where(el)}: ${name}='${v}' is not a valid colo-port`);
  return n;
}

/** A `<colo:reference dev index>` must name this disk's own top layer. */
function ownImageReference(ref: XmlElement, g: GuestDiskInfo): void {
  only(ref, ['dev', 'index']);
  if (attr(ref, 'dev') !== g.target || attr(ref, 'index') !== '0') {
    throw new DomXmlError(
      `${where(ref)}: dev='${ref.attrs.get('dev')}' index='${ref.attrs.get('index')}' cannot be expressed by colo-xl ` +
        `(the layer must be disk ${g.target}'s own image, dev='${g.target}' index='0')`,
    );
  }
}
function formatOf(el: XmlElement, g: GuestDiskInfo, own: boolean): void {
  only(el, ['type']);
  const t = attr(el, 'type');
  const wanted = own ? g.format : 'qcow2';
  if (t !== wanted) {
    throw new DomXmlError(
      `${where(el)}: type='${t}' cannot be expressed by colo-xl (` +
        (own ? `disk ${g.target}'s <driver> says '${wanted}'` : 'libxl\'s active and hidden disks are qcow2') + ')',
    );
  }
}
function fileLayer(bs: XmlElement, index: number, g: GuestDiskInfo, inner: string[]): { file: string; rest: XmlElement[] } {
  only(bs, ['type', 'index']);
  expect(bs, 'type', 'file', 'active and hidden layers are files');
  expect(bs, 'index', String(index), 'backingStore indices count down the chain from 1');
  const [fmt, src, ...rest] = kids(bs, ['format', 'source', ...inner]);
  formatOf(fmt!, g, false);
  only(src!, ['file']);
  return { file: attr(src!, 'file'), rest };
}

/** Applies a `<colo:disk>` to the disk its target names. */
export function readColoDisk(el: XmlElement, g: GuestDiskInfo): void {
  const d = g.disk;
  only(el, ['target', 'backend-type', 'script', 'direct-io-safe', 'trusted', 'specification', 'empty-source', 'colo']);
  const bt = el.attrs.get('backend-type');
  if (bt !== undefined) {
    if (bt !== 'qdisk' && bt !== 'standalone') throw new DomXmlError(`${where(el)}: backend-type='${bt}' is not qdisk or standalone`);
    if (d.backend !== 'unknown') throw new DomXmlError(`${where(el)}: backend-type='${bt}' contradicts the <driver name> of disk ${g.target}`);
    d.backend = bt as DiskBackend;
  }
  d.script = el.attrs.get('script') ?? null;
  const flag = (name: string, values: Record<string, boolean>): boolean | null => {
    const v = el.attrs.get(name);
    if (v === undefined) return null;
    if (!Object.hasOwn(values, v)) throw new DomXmlError(`${where(el)}: ${name}='${v}' is not one of ${Object.keys(values).join(', ')}`);
    return values[v]!;
  };
  d.direct_io_safe = flag('direct-io-safe', { yes: true }) ?? false;
  d.trusted = flag('trusted', { yes: true, no: false });
  d.colo_enable = flag('colo', { on: true, off: false });
  if (flag('empty-source', { yes: true })) {
    if (d.pdev_path !== null) throw new DomXmlError(`${where(el)}: empty-source='yes' but disk ${g.target} has a <source>`);
    d.pdev_path = '';
  }
  const spec = el.attrs.get('specification');
  if (spec !== undefined) {
    if (spec !== 'xen' && spec !== 'virtio') throw new DomXmlError(`${where(el)}: specification='${spec}' is not xen or virtio`);
    d.specification = spec as DiskSpecification;
  }
  if (el.children.length === 0) return;
  if (el.children.length === 1 && el.children[0]!.local === 'keys') {
    const [k] = kids(el, ['keys']);
    only(k!, ['colo-host', 'colo-port', 'colo-export', 'active-disk', 'hidden-disk']);
    d.colo_host = k!.attrs.get('colo-host') ?? null;
    d.colo_port = k!.attrs.has('colo-port') ? intAttr(k!, 'colo-port') : 0;
    d.colo_export = k!.attrs.get('colo-export') ?? null;
    d.active_disk = k!.attrs.get('active-disk') ?? null;
    d.hidden_disk = k!.attrs.get('hidden-disk') ?? null;
    if (isCompleteColo(d)) {
      throw new DomXmlError(`${where(k!)}: a complete COLO disk must be written as its replication trees, not as keys`);
    }
    return;
  }
  if (d.colo_enable !== true) throw new DomXmlError(`${where(el)}: replication trees need colo='on'`);
  if (d.is_cdrom) throw new DomXmlError(`${where(el)}: disk ${g.target} is a CD-ROM, which libxl never replicates`);
  const [nbd, primary, blockdev, secondary] = kids(el, ['nbd', 'primary', 'blockdev', 'secondary']);
  only(nbd!, ['host', 'port', 'export']);
  d.colo_host = attr(nbd!, 'host');
  d.colo_port = intAttr(nbd!, 'port');
  const exp = attr(nbd!, 'export');
  d.colo_export = exp;

  only(primary!, ['type']);
  expect(primary!, 'type', 'quorum', 'a COLO primary is a quorum over the local image');
  const [drv, child] = kids(primary!, ['driver', 'backingStore']);
  only(drv!, ['name', 'type', 'read-pattern', 'vote-threshold']);
  expect(drv!, 'name', 'qemu', 'libxl drives COLO through QEMU');
  expect(drv!, 'type', 'quorum', 'the primary driver is quorum');
  expect(drv!, 'read-pattern', 'fifo', 'libxl reads the local child first');
  expect(drv!, 'vote-threshold', '1', 'libxl votes with a threshold of 1');
  only(child!, ['type', 'index']);
  expect(child!, 'type', 'file', 'the quorum child is the disk image');
  expect(child!, 'index', '1', 'the quorum child is backingStore 1');
  const [cfmt, cref] = kids(child!, ['format', 'reference']);
  formatOf(cfmt!, g, true);
  ownImageReference(cref!, g);

  only(blockdev!, ['name']);
  if (attr(blockdev!, 'name') !== exp) {
    throw new DomXmlError(`${where(blockdev!)}: name='${blockdev!.attrs.get('name')}' cannot be expressed by colo-xl (the exported base is named by <colo:nbd export='${exp}'>)`);
  }
  const [bfmt, bref] = kids(blockdev!, ['format', 'reference']);
  formatOf(bfmt!, g, true);
  ownImageReference(bref!, g);

  only(secondary!, ['type', 'mode']);
  expect(secondary!, 'type', 'replication', 'a COLO secondary is a replication driver');
  expect(secondary!, 'mode', 'secondary', 'the secondary tree runs the replication driver in secondary mode');
  const [active] = kids(secondary!, ['backingStore']);
  const a = fileLayer(active!, 1, g, ['backingStore']);
  const h = fileLayer(a.rest[0]!, 2, g, ['backingStore']);
  const base = h.rest[0]!;
  only(base, ['type', 'index']);
  expect(base, 'type', 'blockdev', 'the hidden disk is backed by the exported base');
  expect(base, 'index', '3', 'backingStore indices count down the chain from 1');
  const [bsRef] = kids(base, ['reference']);
  only(bsRef!, ['blockdev']);
  if (attr(bsRef!, 'blockdev') !== exp) {
    throw new DomXmlError(`${where(bsRef!)}: blockdev='${bsRef!.attrs.get('blockdev')}' cannot be expressed by colo-xl (libxl backs the hidden disk with the exported base '${exp}')`);
  }
  d.active_disk = a.file;
  d.hidden_disk = h.file;
}
