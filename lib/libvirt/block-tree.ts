/**
 * The block trees a domain document's COLO extension describes, in QEMU's terms (driver names,
 * child edge names, file names), so they can be set side by side with what the device-model
 * builder hands QEMU for the same disks. References are resolved: `dev='hda' index='0'` becomes
 * the guest disk's own image, `blockdev='e1'` stays a reference to the node with id e1.
 */
import { InternalError } from '../errors.js';
import { COLO_NS } from './colo-xml.js';
import { domainXmlToXlCfg } from './domxml.js';
import { parseXml, type XmlElement } from './xml.js';

export interface BlockTreeNode {
  /** QEMU block driver ('quorum', 'replication', 'qcow2', 'raw', 'vpc', …); '' for a reference. */
  driver: string;
  /** The node's drive id, where the tree names it. */
  id?: string;
  /** The image file a format node reads through its protocol child. */
  filename?: string;
  /** A reference to another node by id (the secondary's backing base). */
  ref?: string;
  /** Driver options that shape the graph (mode, read-pattern, vote-threshold). */
  opts: Record<string, string>;
  /** Children by QEMU edge name ('children.0', 'file', 'backing'). */
  children: Record<string, BlockTreeNode>;
}

export interface ColoDiskTrees {
  target: string;
  primary: BlockTreeNode;
  /** The secondary's exported base (the not guest-visible blockdev). */
  base: BlockTreeNode;
  secondary: BlockTreeNode;
}

/** libvirt format name → QEMU driver name. */
export function qemuDriverOfFormat(format: string): string {
  return format === 'vhd' ? 'vpc' : format;
}

const child = (el: XmlElement, local: string): XmlElement => {
  const c = el.children.find((x) => x.local === local);
  // the XML → xl.cfg reader has checked the document: a missing child is a bug here
  if (!c) throw new InternalError(`<${el.name}> has no <${local}>`);
  return c;
};

/** Every complete COLO disk's trees. The document is checked by the XML → xl.cfg reader first. */
export function coloBlockTrees(xml: string): ColoDiskTrees[] {
  domainXmlToXlCfg(xml);
  const root = parseXml(xml);
  const images = new Map<string, { file: string; format: string }>();
  for (const d of root.children.find((c) => c.local === 'devices')?.children ?? []) {
    if (d.local !== 'disk') continue;
    const src = d.children.find((c) => c.local === 'source');
    images.set(child(d, 'target').attrs.get('dev')!, {
      file: src?.attrs.get('file') ?? src?.attrs.get('dev') ?? '',
      format: d.children.find((c) => c.local === 'driver')?.attrs.get('type') ?? 'raw',
    });
  }
  const own = (ref: XmlElement, fmt: XmlElement): BlockTreeNode => {
    const img = images.get(ref.attrs.get('dev')!)!;
    return { driver: qemuDriverOfFormat(fmt.attrs.get('type')!), filename: img.file, opts: {}, children: {} };
  };
  const layer = (bs: XmlElement): BlockTreeNode => {
    if (bs.attrs.get('type') === 'blockdev') {
      return { driver: '', ref: child(bs, 'reference').attrs.get('blockdev')!, opts: {}, children: {} };
    }
    const inner = bs.children.find((c) => c.local === 'backingStore');
    return {
      driver: qemuDriverOfFormat(child(bs, 'format').attrs.get('type')!),
      filename: child(bs, 'source').attrs.get('file')!,
      opts: {},
      children: inner ? { backing: layer(inner) } : {},
    };
  };
  const out: ColoDiskTrees[] = [];
  const meta = root.children.find((c) => c.local === 'metadata');
  const rep = meta?.children.find((c) => c.ns === COLO_NS && c.local === 'replication');
  for (const cd of rep?.children ?? []) {
    const p = cd.children.find((c) => c.local === 'primary');
    if (!p) continue;
    const exp = child(cd, 'nbd').attrs.get('export')!;
    const drv = child(p, 'driver');
    const q = child(p, 'backingStore');
    const b = child(cd, 'blockdev');
    const s = child(cd, 'secondary');
    out.push({
      target: cd.attrs.get('target')!,
      primary: {
        driver: 'quorum',
        id: exp,
        opts: { 'read-pattern': drv.attrs.get('read-pattern')!, 'vote-threshold': drv.attrs.get('vote-threshold')! },
        children: { 'children.0': own(child(q, 'reference'), child(q, 'format')) },
      },
      base: { ...own(child(b, 'reference'), child(b, 'format')), id: b.attrs.get('name')! },
      secondary: { driver: 'replication', opts: { mode: s.attrs.get('mode')! }, children: { file: layer(child(s, 'backingStore')) } },
    });
  }
  return out;
}
