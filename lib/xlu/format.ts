/**
 * Writing an xl.cfg back out (the "to native" half of the libvirt converter, like libvirt's
 * xenFormatXLDisk/xenFormatXL): one xl disk specification per disk, in the key=value form so
 * xlu_disk_parse reads back exactly the same libxl_device_disk, and the top-level keys.
 */
import { ColoXlError } from '../errors.js';
import type { DeviceDisk } from '../libxl/types/disk.js';

/** A value that no xl.cfg text could carry back unchanged. */
export class XlFormatError extends ColoXlError {
  constructor(message: string) {
    super('XLU_FORMAT', message);
  }
}

/** A value for `key=value` in a disk spec: the scanner ends a value at the first comma. */
function specValue(key: string, v: string): string {
  if (v.includes(',')) throw new XlFormatError(`${key} "${v}" contains a comma, which an xl disk specification cannot carry`);
  return `${key}=${v}`;
}

// xenFormatXLDisk (libvirt), extended to every key xlu_disk_parse knows, COLO keys included
export function formatXlDisk(d: DeviceDisk): string {
  if (d.vdev === null) throw new XlFormatError('a disk without a vdev cannot be written as an xl disk specification');
  const parts: string[] = [];
  if (d.format !== 'unknown') parts.push(`format=${d.format}`);
  parts.push(specValue('vdev', d.vdev));
  parts.push(`access=${d.readwrite ? 'rw' : 'ro'}`);
  if (d.is_cdrom) parts.push('devtype=cdrom');
  if (d.backend !== 'unknown') parts.push(`backendtype=${d.backend}`);
  if (d.backend_domname !== null) parts.push(specValue('backend', d.backend_domname));
  if (d.specification !== 'unknown') parts.push(`specification=${d.specification}`);
  if (d.script !== null) parts.push(specValue('script', d.script));
  if (d.direct_io_safe) parts.push('direct-io-safe');
  if (d.discard_enable !== null) parts.push(d.discard_enable ? 'discard' : 'no-discard');
  if (d.trusted !== null) parts.push(d.trusted ? 'trusted' : 'untrusted');
  if (d.colo_enable !== null) parts.push(d.colo_enable ? 'colo' : 'no-colo');
  if (d.colo_host !== null) parts.push(specValue('colo-host', d.colo_host));
  if (d.colo_port !== 0) parts.push(`colo-port=${d.colo_port}`);
  if (d.colo_export !== null) parts.push(specValue('colo-export', d.colo_export));
  if (d.active_disk !== null) parts.push(specValue('active-disk', d.active_disk));
  if (d.hidden_disk !== null) parts.push(specValue('hidden-disk', d.hidden_disk));
  // target= takes the rest of the string, commas included, so it goes last
  if (d.pdev_path !== null) parts.push(`target=${d.pdev_path}`);
  return parts.join(',');
}

const CFG_ESCAPES: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\t': '\\t', '\r': '\\r' };

/** A double-quoted xl.cfg string (libxlu's lexer undoes these escapes). */
export function xlCfgString(s: string): string {
  // eslint-disable-next-line no-control-regex
  const bad = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.exec(s);
  if (bad) throw new XlFormatError(`value ${JSON.stringify(s)} has a control character an xl.cfg string cannot carry`);
  return `"${s.replace(/[\\"\n\t\r]/g, (c) => CFG_ESCAPES[c]!)}"`;
}

/** One `key = value` setting: strings quoted, numbers bare, lists of strings bracketed. */
export type XlSetting = [string, string | number | bigint | string[]];

export function formatXlCfg(settings: readonly XlSetting[]): string {
  return settings
    .map(([k, v]) => {
      if (Array.isArray(v)) return `${k} = [ ${v.map(xlCfgString).join(', ')} ]\n`;
      return `${k} = ${typeof v === 'string' ? xlCfgString(v) : String(v)}\n`;
    })
    .join('');
}
