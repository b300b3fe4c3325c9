/**
 * µs per disk spec: our parser (parseDiskSpec + diskToJson, or the DiskSpecError with its report)
 * against Xen 4.17's libxlutil through the koffi binding (xlu_disk_parse +
 * libxl_device_disk_to_json + report capture), side by side over the differential-test corpus.
 * Each entry is timed for both parsers in turn, REPS calls at a time, ROUNDS times; an entry's
 * time is its best round, so other load on the machine hurts both sides alike.
 * Targets: median ≤ 10 µs per spec, and within 5× of libxlutil.
 */
import { DiskScannerFatal } from '../lib/xlu/disk/parse.js';
import { DiskSpecError, parseDiskSpec } from '../lib/xlu/index.js';
import { diskToJson } from '../lib/libxl/index.js';
import { libxluParseDisk, mayJamScanner, requireLibxlutil } from '../test/support/native/libxlutil/index.js';
import { generateDiskCorpus } from '../test/support/disk-corpus.js';

const REPS = 4;
const ROUNDS = 3;

function ours(specs: readonly string[]): string {
  try {
    return diskToJson(parseDiskSpec(specs));
  } catch (e) {
    if (e instanceof DiskSpecError || e instanceof DiskScannerFatal) return e.report;
    throw e;
  }
}

function theirs(specs: readonly string[]): string {
  const r = libxluParseDisk(specs);
  return r.json ?? r.report;
}

function timeIt(f: (s: readonly string[]) => string, specs: readonly string[]): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < REPS; i++) f(specs);
  return Number(process.hrtime.bigint() - t0) / 1000 / REPS;
}

function stats(xs: number[]): { median: number; mean: number; p90: number } {
  const s = [...xs].sort((a, b) => a - b);
  return {
    median: s[Math.floor(s.length / 2)]!,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    p90: s[Math.floor(s.length * 0.9)]!,
  };
}

export async function run(): Promise<void> {
  requireLibxlutil();
  // Specs that may jam libxlu's scanner run in a child process there: not comparable, left out.
  const corpus = generateDiskCorpus({ size: Number(process.env.DISK_BENCH_SIZE ?? 5000) })
    .map((e) => e.specs)
    .filter((specs) => !mayJamScanner(specs));
  for (const specs of corpus) {
    ours(specs);
    theirs(specs);
  }
  const best = { ours: corpus.map(() => Infinity), libxlu: corpus.map(() => Infinity) };
  for (let round = 0; round < ROUNDS; round++) {
    corpus.forEach((specs, i) => {
      best.ours[i] = Math.min(best.ours[i]!, timeIt(ours, specs));
      best.libxlu[i] = Math.min(best.libxlu[i]!, timeIt(theirs, specs));
    });
  }
  const a = stats(best.ours);
  const b = stats(best.libxlu);
  const f = (x: number): string => x.toFixed(2).padStart(8);
  console.log(`disk-spec parse, ${corpus.length} corpus entries, best of ${ROUNDS} rounds of ${REPS} calls each`);
  console.log(`                       median µs    mean µs     p90 µs`);
  console.log(`  colo-xl (TypeScript) ${f(a.median)}   ${f(a.mean)}   ${f(a.p90)}`);
  console.log(`  libxlutil via koffi  ${f(b.median)}   ${f(b.mean)}   ${f(b.p90)}`);
  console.log(`  ratio colo-xl/libxlu ${f(a.median / b.median)}×  ${f(a.mean / b.mean)}×  ${f(a.p90 / b.p90)}×`);
  // Most corpus entries are refused; the two paths cost differently, so show them apart.
  const accepted = corpus.map((specs) => libxluParseDisk(specs).rc === 0);
  for (const [name, want] of [['accepted', true], ['refused', false]] as const) {
    const o = stats(best.ours.filter((_, i) => accepted[i] === want));
    const l = stats(best.libxlu.filter((_, i) => accepted[i] === want));
    const n = accepted.filter((x) => x === want).length;
    console.log(`  median µs, ${name} specs only (${n}): colo-xl ${o.median.toFixed(2)}, libxlu ${l.median.toFixed(2)}, ratio ${(o.median / l.median).toFixed(2)}×`);
  }
  const ok = a.median <= 10 && a.median / b.median <= 5;
  console.log(`  target (median ≤ 10 µs and ≤ 5× libxlutil): ${ok ? 'met' : 'NOT met'}`);
}
