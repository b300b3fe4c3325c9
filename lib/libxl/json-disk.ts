/**
 * libxl_device_disk_to_json as a yajl build of Xen 4.17 prints it: gentypes.py's generator
 * (fields in IDL order, each omitted at its default) through yajl's beautifier.
 */
import { YajlGen, yajlEncodeString } from '../json/yajl.js';
import type { DeviceDisk } from './types/disk.js';

/** One field of a JSON object as libxl writes it: key, and the value already in JSON. */
export type JsonField = [key: string, value: string];

const yajlString = yajlEncodeString;
const str = (v: string | null): string | null => (v === null ? null : yajlString(v));
const int = (v: number | bigint): string | null => (v === 0 || v === 0n ? null : String(v));
const enm = (v: string): string | null => (v === 'unknown' ? null : yajlString(v));
const defbool = (v: boolean | null): string | null => (v === null ? null : v ? '"True"' : '"False"');

/** The fields libxl_device_disk_gen_json emits, in order, as [key, JSON value]. */
export function diskJsonFields(d: DeviceDisk): JsonField[] {
  const all: [string, string | null][] = [
    ['backend_domid', int(d.backend_domid)],
    ['backend_domname', str(d.backend_domname)],
    ['pdev_path', str(d.pdev_path)],
    ['vdev', str(d.vdev)],
    ['backend', enm(d.backend)],
    ['format', enm(d.format)],
    ['script', str(d.script)],
    ['removable', int(d.removable)],
    ['readwrite', int(d.readwrite)],
    ['is_cdrom', int(d.is_cdrom)],
    ['direct_io_safe', d.direct_io_safe ? 'true' : null],
    ['discard_enable', defbool(d.discard_enable)],
    ['specification', enm(d.specification)],
    ['transport', enm(d.transport)],
    ['irq', int(d.irq)],
    ['base', int(d.base)],
    ['colo_enable', defbool(d.colo_enable)],
    ['colo_restore_enable', defbool(d.colo_restore_enable)],
    ['colo_host', str(d.colo_host)],
    ['colo_port', int(d.colo_port)],
    ['colo_export', str(d.colo_export)],
    ['active_disk', str(d.active_disk)],
    ['hidden_disk', str(d.hidden_disk)],
    ['trusted', defbool(d.trusted)],
  ];
  return all.filter((f): f is JsonField => f[1] !== null);
}

/** libxl_device_disk_to_json: yajl-beautified (4-space indent), ending in a newline. */
export function diskToJson(disk: DeviceDisk): string {
  const g = new YajlGen();
  g.mapOpen();
  for (const [k, v] of diskJsonFields(disk)) g.string(k).raw(v);
  return g.mapClose().result();
}
