/**
 * xlu_disk_parse (tools/libs/util/libxlu_disk.c): one or more specification strings fill one
 * libxl_device_disk, then the parser's defaults and final checks apply.
 */
import { nearley } from '../util/cjs.js';
import grammar from '../../grammar/disk.js';
import { DiskParseContext, DiskScannerFatal, type DiskSpecMessage, type DiskToken } from './scanner.js';
import { deviceDiskInit, type DeviceDisk } from './types.js';

export { DiskScannerFatal } from './scanner.js';
export type { DiskSpecMessage } from './scanner.js';

const compiled = nearley.Grammar.fromCompiled(grammar);

/**
 * libxlu scans bytes, and some rules take exactly one byte (the unknown-parameter quirk), so the
 * scan runs over a "byte string": one UTF-16 unit per UTF-8 byte.
 */
function toBytes(s: string): string {
  return ASCII.test(s) ? s : Buffer.from(s, 'utf8').toString('latin1');
}
function fromBytes(s: string): string {
  return ASCII.test(s) ? s : Buffer.from(s, 'latin1').toString('utf8');
}
const ASCII = /^[\x00-\x7f]*$/;

/** The report line libxlu prints for one message (xlu__disk_err). */
export function formatDiskSpecMessage(source: string, m: DiskSpecMessage): string {
  const near = m.near === null ? '' : `: near \`${m.near}'`;
  // printf("%s") of a NULL spec: glibc prints "(null)" (only reachable with no strings at all).
  return `${source}: config parsing error in disk specification: ${m.message}${near} in \`${m.spec ?? '(null)'}'\n`;
}

/** A specification libxlu refuses (xlu_disk_parse returned EINVAL). */
export class DiskSpecError extends Error {
  /** Exactly what libxlu writes to its report stream: every line, each ending in a newline. */
  readonly report: string;
  /**
   * The same as bytes. They differ from `report` only where libxlu quotes part of a multi-byte
   * character (its unknown-parameter rule takes one byte after '=').
   */
  readonly reportBytes: Buffer;
  readonly errors: readonly DiskSpecMessage[];
  constructor(
    readonly source: string,
    byteMessages: readonly DiskSpecMessage[],
    /** The disk as far as the parser filled it before giving up. */
    readonly partial: DeviceDisk,
  ) {
    const src = toBytes(source);
    const reportBytes = Buffer.from(byteMessages.map((m) => formatDiskSpecMessage(src, m)).join(''), 'latin1');
    const report = reportBytes.toString('utf8');
    // A refused spec is an answer, not a bug in colo-xl: no stack trace to capture (it would
    // cost more than the whole parse).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(report.trimEnd());
    Error.stackTraceLimit = limit;
    this.name = 'DiskSpecError';
    this.report = report;
    this.reportBytes = reportBytes;
    this.errors = byteMessages.map((m) => ({
      message: m.message,
      near: m.near === null ? null : fromBytes(m.near),
      spec: m.spec === null ? null : fromBytes(m.spec),
    }));
  }
}

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

/** The tokens of one specification string, in order, blanks dropped. */
export function tokenizeDiskSpec(spec: string): DiskToken[] {
  const parser = new nearley.Parser(compiled);
  parser.feed(spec);
  // The grammar is a flat list of token alternatives, so anything but one parse is a bug here.
  if (parser.results.length !== 1) {
    throw new Error(`disk grammar: ${parser.results.length} parses for ${JSON.stringify(spec)}`);
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
 * does. Several strings fill one disk, as `xl block-attach <dom> <word>...` does. Throws
 * DiskSpecError (with libxlu's report text) for a refused spec, and DiskScannerFatal where the
 * real scanner would abort the process.
 */
export function parseDiskSpec(spec: string | readonly string[], options: ParseDiskSpecOptions = {}): DeviceDisk {
  const specs = (typeof spec === 'string' ? [spec] : spec).map(toBytes);
  const source = options.source ?? 'command line';
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
