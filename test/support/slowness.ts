/**
 * How much slower this machine is right now than the reference machine the tests' time limits
 * were written on, measured once per test process: a fixed CPU workload is timed a few times
 * and its median compared with BASELINE_MS. Timeouts and time bounds in the QEMU tests are
 * `scaled(ms)`: on a busy or slow host they stretch by the measured factor (never below 1), so
 * a limit stays a limit — nothing is made longer just in case.
 *
 * Calibrating: on the reference machine (2 cores) with nothing else running,
 *   npx tsx test/support/slowness.ts
 * prints the workload's median and the factor; put the median in BASELINE_MS. The factor is
 * printed by every run that starts the CPU hog (test/support/cpu-hog.ts), and
 * COLO_XL_SLOWNESS=<factor> overrides the measurement (e.g. to reproduce a run).
 */
import { pathToFileURL } from 'node:url';

/** Median ms of one workload round on the idle reference machine. */
export const BASELINE_MS = 12;

const ROUNDS = 7;

/** A fixed amount of integer work the JIT cannot drop (its result is returned and checked). */
function workload(): number {
  let x = 0x2545f491;
  let acc = 0;
  for (let i = 0; i < 6_000_000; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    acc = (acc + (x & 0xff)) | 0;
  }
  return acc;
}

/** Median ms of ROUNDS workload rounds (one warm-up round first, for the JIT). */
export function measureWorkloadMs(): number {
  if (workload() === 0x7fffffff) throw new Error('unreachable: keeps the workload live');
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t = performance.now();
    if (workload() === 0x7fffffff) throw new Error('unreachable');
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(ROUNDS / 2)]!;
}

function measureSlowness(): number {
  const forced = Number(process.env.COLO_XL_SLOWNESS);
  if (Number.isFinite(forced) && forced > 0) return Math.max(1, forced);
  return Math.max(1, measureWorkloadMs() / BASELINE_MS);
}

/** This process's factor (≥ 1), measured when the module is first imported. */
export const SLOWNESS = measureSlowness();

/** `ms` stretched by the measured factor. */
export function scaled(ms: number): number {
  return Math.ceil(ms * SLOWNESS);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const ms = measureWorkloadMs();
  process.stdout.write(`workload median ${ms.toFixed(2)} ms (baseline ${BASELINE_MS} ms): slowness ${Math.max(1, ms / BASELINE_MS).toFixed(2)}\n`);
}
