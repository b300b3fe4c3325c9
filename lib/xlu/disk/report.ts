/**
 * What a refused disk specification reports: libxlu's lines (xlu__disk_err in libxlu_disk.c), and
 * the bound colo-xl puts on their total.
 *
 * libxlu prints one line per message and every line quotes the whole specification string, so a
 * spec of n unknown keys prints n lines of n keys each: `'a=b,'.repeat(11600)` (46 KB) would be a
 * 538-million-character report, more than a JavaScript string can hold. libxlu streams it to a
 * FILE; a library answer has to be held in memory, so `report` keeps libxlu's exact lines while
 * they fit in DISK_SPEC_REPORT_LIMIT bytes and then says, in a last line of its own, that it was
 * cut and how many messages were left out. `errors` always lists every message, and
 * DiskSpecError.reportLines() gives every line of the uncut text one at a time.
 */
import { ColoXlError } from '../../errors.js';
import { bytePrefix, fromBytes, toBytes } from './bytes.js';
import type { DiskSpecMessage } from './scanner.js';
import type { DeviceDisk } from '../../libxl/types/disk.js';

/**
 * The most bytes of libxlu's lines DiskSpecError.report holds (the note saying it was cut comes
 * on top, at most a few kilobytes). No specification of a real disk comes near it.
 */
export const DISK_SPEC_REPORT_LIMIT = 1 << 20;

/**
 * Longest quote (source, token or spec) kept when even the first line is over the limit: that
 * line is then shown with each long quote cut to this many bytes and marked `...`.
 */
const QUOTE_LIMIT = 1024;

/** The report line libxlu prints for one message (xlu__disk_err). */
export function formatDiskSpecMessage(source: string, m: DiskSpecMessage): string {
  const near = m.near === null ? '' : `: near \`${m.near}'`;
  // printf("%s") of a NULL spec: glibc prints "(null)" (only reachable with no strings at all).
  return `${source}: config parsing error in disk specification: ${m.message}${near} in \`${m.spec ?? '(null)'}'\n`;
}

/**
 * The length of a line without building it: the quotes are what can be long, so the line is
 * formatted with them empty and their lengths added.
 */
function lineLength(source: string, m: DiskSpecMessage): number {
  const empty = formatDiskSpecMessage('', {
    message: m.message,
    near: m.near === null ? null : '',
    spec: m.spec === null ? null : '',
  });
  return empty.length + source.length + (m.near?.length ?? 0) + (m.spec?.length ?? 0);
}

function clip(s: string): string {
  return s.length <= QUOTE_LIMIT ? s : `${bytePrefix(s, QUOTE_LIMIT)}...`;
}

/**
 * The report as a byte string: libxlu's lines while they fit in `limit` bytes; if any is left out,
 * a last line says so (and, when even the first line was too long, that it is shown shortened).
 */
export function boundedReport(source: string, messages: readonly DiskSpecMessage[], limit = DISK_SPEC_REPORT_LIMIT): string {
  const lines: string[] = [];
  let used = 0;
  for (const m of messages) {
    const n = lineLength(source, m);
    if (used + n > limit) break;
    lines.push(formatDiskSpecMessage(source, m));
    used += n;
  }
  if (lines.length === messages.length) return lines.join('');
  let note = `${clip(source)}: disk specification report truncated at ${limit} bytes: `;
  if (lines.length === 0) {
    const first = messages[0]!;
    lines.push(formatDiskSpecMessage(clip(source), {
      message: first.message,
      near: first.near === null ? null : clip(first.near),
      spec: first.spec === null ? null : clip(first.spec),
    }));
    note += `the first message has its quotes cut to ${QUOTE_LIMIT} bytes (marked ...), `;
  }
  const omitted = messages.length - lines.length;
  lines.push(`${note}${omitted} more message${omitted === 1 ? '' : 's'} not shown\n`);
  return lines.join('');
}

/** A specification libxlu refuses (xlu_disk_parse returned EINVAL). */
export class DiskSpecError extends ColoXlError {
  /**
   * What libxlu writes to its report stream, every line ending in a newline; past
   * DISK_SPEC_REPORT_LIMIT bytes cut short with a last line saying so (see reportLines).
   */
  readonly report: string;
  /**
   * The same as bytes. They differ from `report` only where libxlu quotes part of a multi-byte
   * character (its unknown-parameter rule takes one byte after '=').
   */
  readonly reportBytes: Buffer;
  /** Every message, never cut. */
  readonly errors: readonly DiskSpecMessage[];
  readonly #byteSource: string;
  readonly #byteMessages: readonly DiskSpecMessage[];

  constructor(
    readonly source: string,
    byteMessages: readonly DiskSpecMessage[],
    /** The disk as far as the parser filled it before giving up. */
    readonly partial: DeviceDisk,
  ) {
    const src = toBytes(source);
    const reportBytes = Buffer.from(boundedReport(src, byteMessages), 'latin1');
    const report = reportBytes.toString('utf8');
    super('XLU_DISK_SPEC', report.trimEnd());
    this.report = report;
    this.reportBytes = reportBytes;
    this.#byteSource = src;
    this.#byteMessages = byteMessages;
    // Messages of one string share its spec: decode it once, not once per message (a long spec
    // with many messages would otherwise cost time quadratic in its length).
    let specIn: string | null = null;
    let specOut: string | null = null;
    this.errors = byteMessages.map((m) => {
      if (m.spec !== specIn) {
        specIn = m.spec;
        specOut = m.spec === null ? null : fromBytes(m.spec);
      }
      return { message: m.message, near: m.near === null ? null : fromBytes(m.near), spec: specOut };
    });
  }

  /**
   * Every line libxlu prints, uncut and in order, one at a time (for a caller that streams the
   * whole text, as xl does to stderr, however long it is).
   */
  *reportLines(): Generator<string, void, undefined> {
    for (const m of this.#byteMessages) yield fromBytes(formatDiskSpecMessage(this.#byteSource, m));
  }
}
