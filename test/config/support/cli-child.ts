/**
 * Runs one colo-xl command (through test/support/cli.ts) as its own process, so that a test can bound its
 * heap (node --max-old-space-size) and read its peak memory. The command's stdout, stderr and
 * status are passed through unchanged; its measurements go to fd 3 as one JSON line.
 */
import { writeSync } from 'node:fs';
import { cli as runColoXl } from '../../support/cli.js';

export interface ChildMetrics {
  /** Milliseconds spent in the command itself (module loading excluded). */
  ms: number;
  /** Peak resident set size, KiB. */
  maxRssKb: number;
}

const t0 = performance.now();
const r = await runColoXl(process.argv.slice(2));
const metrics: ChildMetrics = { ms: performance.now() - t0, maxRssKb: process.resourceUsage().maxRSS };
writeSync(3, JSON.stringify(metrics) + '\n');
process.stdout.write(r.stdout);
process.stderr.write(r.stderr);
process.exitCode = r.status;
