/**
 * xlu_disk_parse (tools/libs/util/libxlu_disk.c): one or more specification strings fill one
 * libxl_device_disk, then the parser's defaults and final checks apply.
 */
import { InternalError } from '../../errors.js';
import { nearley } from '../../util/cjs.js';
import grammar from '../../../grammar/disk.js';
import { cString } from '../../util/cstr.js';
import { fromBytes, toBytes } from './bytes.js';
import { DiskSpecError } from './report.js';
import { DiskParseContext, DiskScannerFatal, type DiskToken } from './scanner.js';
import { deviceDiskInit, type DeviceDisk } from '../../libxl/types/disk.js';

export { DiskScannerFatal } from './scanner.js';
export type { DiskSpecMessage } from './scanner.js';
export { DiskSpecError, DISK_SPEC_REPORT_LIMIT, formatDiskSpecMessage } from './report.js';

const compiled = nearley.Grammar.fromCompiled(grammar);

/** The disk's strings back from byte strings to text. */
function decodeDisk(disk: DeviceDisk): DeviceDisk {
  for (const k of STRING_FIELDS) {
    const v = disk[k];
    if (v !== null) disk[k] = fromBytes(v);
  }
  return disk;
}
const STRING_FIELDS = [
  'backend_domname', 'pdev_path', 'vdev', 'script', 'colo_host', 'colo_export', 'active_disk', 'hidden_disk',
] as const;

/**
 * The tokens of one specification string, in order, blanks dropped. The string is taken as it
 * is (a NUL is an ordinary character here; parseDiskSpec cuts at it first).
 */
export function tokenizeDiskSpec(spec: string): DiskToken[] {
  const parser = new nearley.Parser(compiled);
  parser.feed(spec);
  // The grammar is a flat list of token alternatives, so anything but one parse is a bug here.
  if (parser.results.length !== 1) {
    throw new InternalError(`disk grammar: ${parser.results.length} parses for ${JSON.stringify(spec)}`);
  }
  return parser.results[0] as DiskToken[];
}

// xlu_disk_parse, over byte strings (see toBytes)
export function xluDiskParse(specs: readonly string[], dpc: DiskParseContext): DiskParseContext {
  const disk = dpc.disk;
  disk.readwrite = 1;
  for (const spec of specs) {
    dpc.scan(spec, tokenizeDiskSpec(spec));
    // an error ends the parse: no more strings, no defaults, no final checks
    if (dpc.err) return dpc;
  }
  if (disk.format === 'unknown') disk.format = 'raw';
  if (disk.is_cdrom) {
    // unconditionally: `access=rw,devtype=cdrom` ends up read-only
    disk.removable = 1;
    disk.readwrite = 0;
    if (disk.pdev_path === null || disk.pdev_path === '') disk.format = 'empty';
  }
  if (disk.vdev === null) {
    dpc.error(null, 'no vdev specified');
  } else if (disk.pdev_path === null && !disk.removable) {
    dpc.error(null, 'no target specified (and device not removable)');
  }
  return dpc;
}

export interface ParseDiskSpecOptions {
  /** Names the input in error reports: the config file, or xl's "command line" (the default). */
  source?: string;
}

/**
 * Parses an xl disk specification into a libxl_device_disk, exactly as Xen 4.17's libxlutil
 * does. Several strings fill one disk, as `xl block-attach <dom> <word>...` does.
 *
 * NUL: each string, and `options.source`, ends at its first NUL character, because that is all
 * the C function sees (`xlu_disk_parse` takes C strings; a command line cannot carry a NUL at
 * all). `'vdev=xvda,target=/a\0,target=/b'` is the disk `vdev=xvda,target=/a`, and the report
 * quotes the string only up to the NUL: the same disk, and the same words, as libxlutil.
 *
 * Throws DiskSpecError for a refused spec: its `report` is libxlu's text, cut after
 * DISK_SPEC_REPORT_LIMIT bytes with a last line saying so (libxlu repeats the whole spec in every
 * message, which for long specs of many errors grows with the square of their length); its
 * `errors` and `reportLines()` give every message. Throws DiskScannerFatal where the real scanner
 * would abort the process. Time and memory are linear in the length of the input.
 */
export function parseDiskSpec(spec: string | readonly string[], options: ParseDiskSpecOptions = {}): DeviceDisk {
  // what crosses the C interface: C strings (cut at NUL), scanned as bytes
  const specs = (typeof spec === 'string' ? [spec] : spec).map((s) => toBytes(cString(s)));
  const source = cString(options.source ?? 'command line');
  const disk = deviceDiskInit();
  const dpc = new DiskParseContext(disk);
  try {
    xluDiskParse(specs, dpc);
  } catch (e) {
    // the messages printed before flex gave up are part of what the user sees
    if (e instanceof DiskScannerFatal) throw new DiskScannerFatal(e.fatal, new DiskSpecError(source, dpc.messages, disk).report);
    throw e;
  }
  if (dpc.err) throw new DiskSpecError(source, dpc.messages, decodeDisk(disk));
  return decodeDisk(disk);
}
