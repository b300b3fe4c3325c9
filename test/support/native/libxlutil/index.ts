/**
 * The real Xen 4.17 disk-spec parser, for differential tests and benchmarks: what
 * `xlu_disk_parse` + `libxl_device_disk_to_json` give for any specs, and the exact report text.
 *
 * One input can kill the caller: libxlu's flex scanner has no rule for a newline right after a
 * `=` that starts a token, and on that "jam" it prints `flex scanner jammed` to stderr and calls
 * exit(2). Such specs always contain "=\n", so those (and only those) run in a child process; the
 * result then says how the process died.
 *
 * Another input is refused outright: one scan step longer than flex's state buffer (about 16 KiB)
 * overruns the heap inside libxlu (glibc then aborts, or worse), so specs are limited to
 * LIBXLU_MAX_SPEC_BYTES.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ChildJob, ChildLine } from './child.js';
import { requireFile } from '../../require-tool.js';
import { LIBXLUTIL_DEBIAN_PACKAGE, LIBXLUTIL_SONAME, libxlutilNatives, parseInMemory } from './ffi.js';

export { LIBXENLIGHT_SONAME, LIBXLUTIL_DEBIAN_PACKAGE, LIBXLUTIL_SONAME } from './ffi.js';

/** xl's report source for specs given as arguments (`xl block-attach`). */
export const COMMAND_LINE_SOURCE = 'command line';

export interface LibxluFatal {
  /** What the dying process wrote to stderr (libxlu's own text, e.g. "flex scanner jammed\n"). */
  stderr: string;
  exitStatus: number | null;
  signal: string | null;
}

export interface LibxluDiskResult {
  /** xlu_disk_parse's return value (0, EINVAL, ...); -1 when the parser killed the process. */
  rc: number;
  /** libxl_device_disk_to_json output (yajl beautified, trailing newline) when rc is 0. */
  json: string | null;
  /** The report stream, decoded as UTF-8 (invalid bytes become U+FFFD, as TextDecoder does). */
  report: string;
  reportBytes: Buffer;
  jsonBytes: Buffer | null;
  /** Set when libxlu terminated the process instead of returning. */
  fatal: LibxluFatal | null;
}

/**
 * Longest spec (UTF-8 bytes) handed to libxlu. Its scanner keeps one state per byte scanned in a
 * buffer of YY_BUF_SIZE (16384) + 2 entries that scan_bytes never grows; from 16384 bytes on, the
 * Debian 4.17 build corrupts malloc's heap.
 */
export const LIBXLU_MAX_SPEC_BYTES = 16000;

function checkLengths(specs: readonly string[]): void {
  for (const s of specs) {
    if (s.length > LIBXLU_MAX_SPEC_BYTES / 3 && Buffer.byteLength(s, 'utf8') > LIBXLU_MAX_SPEC_BYTES) {
      throw new RangeError(
        `disk spec of ${Buffer.byteLength(s, 'utf8')} bytes: libxlutil 4.17 overruns its heap on specs over ` +
          `${LIBXLU_MAX_SPEC_BYTES} bytes (flex state buffer), so it is not called`,
      );
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** Whether these specs can make libxlu's scanner jam (and exit): only a `=` followed by newline can. */
export function mayJamScanner(specs: readonly string[]): boolean {
  return specs.some((s) => s.includes('=\n'));
}

/** True when the koffi bindings load (libxenmisc4.17 installed). */
export function isLibxlutilAvailable(): boolean {
  try {
    libxlutilNatives();
    return true;
  } catch {
    return false;
  }
}

/** Loads the libraries now; throws an Error naming the Debian package libxenmisc4.17 if missing. */
export function requireLibxlutil(): void {
  requireFile(`/usr/lib/x86_64-linux-gnu/${LIBXLUTIL_SONAME}`, LIBXLUTIL_DEBIAN_PACKAGE);
  libxlutilNatives();
}

function toResult(rc: number, jsonBytes: Buffer | null, reportBytes: Buffer, fatal: LibxluFatal | null): LibxluDiskResult {
  return {
    rc,
    json: jsonBytes ? utf8.decode(jsonBytes) : null,
    report: utf8.decode(reportBytes),
    reportBytes,
    jsonBytes,
    fatal,
  };
}

/**
 * xlu_disk_parse(cfg, specs.length, specs, disk) on a fresh disk, with `source` as the report
 * source (xl uses "command line"); specs are passed as UTF-8 C strings.
 */
export function libxluParseDisk(specs: string | readonly string[], source: string = COMMAND_LINE_SOURCE): LibxluDiskResult {
  const list = typeof specs === 'string' ? [specs] : specs;
  checkLengths(list);
  if (mayJamScanner(list)) return parseIsolated([list], source)[0]!;
  const out = parseInMemory(list, source);
  return toResult(out.rc, out.jsonBytes, out.reportBytes, null);
}

/** Many disks at once: in-process where safe, the risky ones together in child processes. */
export function libxluParseDisks(disks: readonly (readonly string[])[], source: string = COMMAND_LINE_SOURCE): LibxluDiskResult[] {
  disks.forEach(checkLengths);
  const results: LibxluDiskResult[] = new Array<LibxluDiskResult>(disks.length);
  const risky: number[] = [];
  disks.forEach((specs, i) => {
    if (mayJamScanner(specs)) {
      risky.push(i);
    } else {
      const out = parseInMemory(specs, source);
      results[i] = toResult(out.rc, out.jsonBytes, out.reportBytes, null);
    }
  });
  if (risky.length > 0) {
    const isolated = parseIsolated(risky.map((i) => disks[i]!), source);
    risky.forEach((i, k) => (results[i] = isolated[k]!));
  }
  return results;
}

function childCommand(): { file: string; args: string[] } {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    // Running from sources (tests, benches): the child needs the same TypeScript loader.
    return { file: here.replace(/index\.ts$/, 'child.ts'), args: ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href] };
  }
  return { file: here.replace(/index\.js$/, 'child.js'), args: [] };
}

/**
 * Parses each disk in a child process; when the child dies, the disk it was on gets the fatal
 * outcome (with the report text written before death) and a new child goes on with the rest.
 */
function parseIsolated(disks: readonly (readonly string[])[], source: string): LibxluDiskResult[] {
  libxlutilNatives(); // fail here, clearly, rather than in the child
  const { file, args } = childCommand();
  const reportDir = mkdtempSync(join(tmpdir(), 'colo-xl-libxlu-'));
  const results: LibxluDiskResult[] = [];
  try {
    while (results.length < disks.length) {
      const first = results.length;
      const job: ChildJob = { source, reportDir, first, disks: disks.slice(first).map((d) => [...d]) };
      const child = spawnSync(process.execPath, [...args, file], {
        input: JSON.stringify(job),
        maxBuffer: 256 * 1024 * 1024,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      if (child.error) throw child.error;
      const report = (i: number): Buffer => readFileSync(join(reportDir, String(i)));
      for (const text of child.stdout.toString('utf8').split('\n')) {
        if (!text) continue;
        const line = JSON.parse(text) as ChildLine;
        const json = line.json === null ? null : Buffer.from(line.json, 'base64');
        results.push(toResult(line.rc, json, report(line.index), null));
      }
      if (child.status === 0 && results.length === disks.length) break;
      const dead = results.length;
      const stderr = child.stderr.toString('utf8');
      if (child.status === 0 || dead >= disks.length || !existsSync(join(reportDir, String(dead)))) {
        throw new Error(`libxlutil child failed (status ${child.status}, signal ${child.signal}): ${stderr}`);
      }
      const fatal: LibxluFatal = { stderr, exitStatus: child.status, signal: child.signal };
      results.push(toResult(-1, null, report(dead), fatal));
    }
  } finally {
    rmSync(reportDir, { recursive: true, force: true });
  }
  return results;
}
