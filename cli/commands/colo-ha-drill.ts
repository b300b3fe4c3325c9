/** `colo-xl colo-ha drill`: the loss-free drill (cli/lab/drill.ts), its run lines and summary. */
import { DEFAULT_INTERVAL_MS, DEFAULT_MISS_COUNT } from '../../lib/ha/heartbeat.js';
import { runDrill, type DrillRun } from '../lab/drill.js';
import { oneOf, positiveOption as num, type Output } from '../options.js';

function runLine(r: DrillRun): string {
  const v = r.verdict;
  return (
    `run ${r.n}: ${r.ok ? 'ok' : 'FAILED'}: ${r.writes} writes (${r.acked} acked, ${r.failed} failed, ${r.rate.toFixed(0)}/s), ` +
    `${r.checkpoints} checkpoints, kill→serving ${r.killToServingMs.toFixed(1)} ms (detection ${r.killToDetectMs.toFixed(1)} + failover ${r.failoverMs.toFixed(1)})` +
    (v ? `, disk: ${v.present} present, ${v.mustHave} required, ${v.mustNotHave} excluded, ${v.either} either${r.inflightCheckpoint ? ', in-flight checkpoint kept' : ''}` : '') +
    (r.error ? `: ${r.error}` : v && !v.ok ? `: ${v.problems.slice(0, 3).join('; ')}` : '')
  );
}

/** The drill's options of colo-ha's command line. */
export interface DrillOptions {
  victim?: string;
  dir?: string;
  'tls-dir'?: string;
  runs?: string;
  rate?: string;
  delay?: string;
  interval?: string;
  miss?: string;
  periodic?: boolean;
}

export async function drill(o: DrillOptions, out: Output): Promise<number> {
  const victim = oneOf(o.victim, 'victim', ['primary', 'secondary'] as const);
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const settings = {
    victim,
    runs: num(o.runs, 'runs', 50),
    rate: num(o.rate, 'rate', 600),
    checkpointDelayMs: num(o.delay, 'delay', 200),
    // drained: the drill takes each checkpoint with the load drained, as a guest's I/O is;
    // periodic: QEMU's own timer, with monitor writes running through the checkpoints
    drainedCheckpointMs: o.periodic ? 0 : num(o.delay, 'delay', 200),
    ...(o['tls-dir'] ? { tlsDir: o['tls-dir'] } : {}),
    // the agents' heartbeat, as for colo-ha agent (a loaded host needs more misses)
    ...(o.interval ? { intervalMs: num(o.interval, 'interval', DEFAULT_INTERVAL_MS) } : {}),
    ...(o.miss ? { missCount: num(o.miss, 'miss', DEFAULT_MISS_COUNT) } : {}),
  };
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'colo-xl-drill-'));
  try {
    const s = await runDrill({
      dir,
      ...settings,
      onRun: (r) => out.emit('run', { ...r, verdict: r.verdict && { ...r.verdict, problems: r.verdict.problems.slice(0, 5) } }, runLine(r)),
    });
    const { results: _r, ...sum } = s;
    out.emit(
      'summary',
      sum,
      `${victim} killed ${s.runs} times: ${s.passed} passed, ${s.failed} failed; ${s.writes} writes, ${s.acked} acked, ${s.failedWrites} failed; ` +
        `lowest rate ${s.minRate.toFixed(0)}/s; kill→serving median ${s.medianKillToServingMs.toFixed(1)} ms, max ${s.maxKillToServingMs.toFixed(1)} ms`,
    );
    return s.failed === 0 ? 0 : 1;
  } finally {
    if (!o.dir) rmSync(dir, { recursive: true, force: true });
  }
}
