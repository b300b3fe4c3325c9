/**
 * The bound DiskSpecError puts on its report, stated against libxlu's whole text: all of it when
 * it fits in DISK_SPEC_REPORT_LIMIT bytes, else its first whole lines that fit and one line of
 * colo-xl's saying how many were left out.
 */
import assert from 'node:assert/strict';
import { DISK_SPEC_REPORT_LIMIT } from '../../lib/xlu/disk/parse.js';

/** Lines of a report, each with its newline. */
export function reportLinesOf(bytes: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  for (let start = 0; start < bytes.length; ) {
    const nl = bytes.indexOf(0x0a, start);
    const end = nl < 0 ? bytes.length : nl + 1;
    lines.push(bytes.subarray(start, end));
    start = end;
  }
  return lines;
}

/** The note line after `omitted` messages were left out (the first line shown whole). */
export function truncationNote(source: string, omitted: number): string {
  return `${source}: disk specification report truncated at ${DISK_SPEC_REPORT_LIMIT} bytes: ` +
    `${omitted} more message${omitted === 1 ? '' : 's'} not shown\n`;
}

/**
 * Asserts that `ours` (DiskSpecError.reportBytes) is `libxlu`'s report bounded. Returns how many
 * of libxlu's lines were left out.
 */
export function assertBoundedReport(ours: Buffer, libxlu: Buffer, source = 'command line'): number {
  if (libxlu.length <= DISK_SPEC_REPORT_LIMIT) {
    assert.ok(ours.equals(libxlu), `a report of ${libxlu.length} bytes must be libxlu's, whole`);
    return 0;
  }
  const lines = reportLinesOf(libxlu);
  let kept = 0;
  let used = 0;
  while (kept < lines.length && used + lines[kept]!.length <= DISK_SPEC_REPORT_LIMIT) used += lines[kept++]!.length;
  assert.ok(kept >= 1, 'libxlu lines are shorter than the limit');
  const want = Buffer.concat([...lines.slice(0, kept), Buffer.from(truncationNote(source, lines.length - kept))]);
  assert.ok(ours.equals(want), `report of ${ours.length} bytes is not libxlu's first ${kept} lines and the note`);
  return lines.length - kept;
}
