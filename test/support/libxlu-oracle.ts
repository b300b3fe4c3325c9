/**
 * Runs one disk through both parsers (ours and Xen 4.17's libxlutil through the koffi binding) and
 * reduces each answer to an outcome that can be compared byte for byte.
 */
import { DiskScannerFatal } from '../../lib/xlu/disk/parse.js';
import { DiskSpecError, parseDiskSpec } from '../../lib/xlu/index.js';
import { diskToJson } from '../../lib/libxl/index.js';
import type { LibxluDiskResult } from './native/libxlutil/index.js';

export type Outcome =
  | { kind: 'ok'; json: string }
  /** xlu_disk_parse refused it: the report stream text. */
  | { kind: 'error'; report: string }
  /** The scanner aborted the process: everything xl would have on stderr (report + fatal text). */
  | { kind: 'fatal'; text: string }
  /** Our parser threw something that is not part of its contract. */
  | { kind: 'crash'; message: string };

export function libxluOutcome(r: LibxluDiskResult): Outcome {
  if (r.fatal) return { kind: 'fatal', text: r.report + r.fatal.stderr };
  if (r.rc === 0) return { kind: 'ok', json: r.json ?? '' };
  return { kind: 'error', report: r.report };
}

export function ourOutcome(specs: readonly string[], source?: string): Outcome {
  try {
    const disk = parseDiskSpec(specs, source === undefined ? {} : { source });
    return { kind: 'ok', json: diskToJson(disk) };
  } catch (e) {
    // libxlu's whole text, as xl streams it (`report` holds it only up to DISK_SPEC_REPORT_LIMIT
    // bytes; test/disk/differential.test.ts checks that bound against libxlu separately)
    if (e instanceof DiskSpecError) return { kind: 'error', report: [...e.reportLines()].join('') };
    if (e instanceof DiskScannerFatal) return { kind: 'fatal', text: e.report };
    return { kind: 'crash', message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
}

export function sameOutcome(a: Outcome, b: Outcome): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Which part differs, for grouping mismatches. */
export function mismatchClass(ours: Outcome, theirs: Outcome): string {
  if (ours.kind !== theirs.kind) return `${theirs.kind} in libxlu, ${ours.kind} in ours`;
  if (ours.kind === 'ok') return 'JSON differs';
  if (ours.kind === 'error') return 'report differs';
  return 'fatal text differs';
}

function show(o: Outcome): string {
  switch (o.kind) {
    case 'ok': return `ok JSON ${JSON.stringify(o.json)}`;
    case 'error': return `error report ${JSON.stringify(o.report)}`;
    case 'fatal': return `fatal ${JSON.stringify(o.text)}`;
    default: return `CRASH ${o.message}`;
  }
}

export function describeMismatch(specs: readonly string[], kind: string, ours: Outcome, theirs: Outcome): string {
  return `  specs ${JSON.stringify(specs)} [${kind}]: ${mismatchClass(ours, theirs)}\n` +
    `    libxlu: ${show(theirs)}\n    ours:   ${show(ours)}\n`;
}
