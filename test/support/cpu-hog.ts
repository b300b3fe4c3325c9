/**
 * A mocha root-hook plugin that runs the tests under CPU contention: it starts
 * tools/cpu-hog.sh (one busy loop per core) when mocha loads it, measures the slowness factor
 * with the hog running, and stops the hog by its PID when the run ends (or the process exits).
 *
 *   npx mocha --require test/support/cpu-hog.ts test/colo/*.test.ts test/ha/*.test.ts
 *
 * The hog is bounded by COLO_XL_CPU_HOG_SECONDS (default 3600) and by this process's life (it
 * watches our PID), so a run killed before its after-all hook cannot leave the loops behind.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'tools', 'cpu-hog.sh');
const seconds = process.env.COLO_XL_CPU_HOG_SECONDS ?? '3600';
// the hog watches this process too: a run killed before its after-all hook stops it within 1 s
const hog = spawn('/bin/sh', [script, seconds, '', String(process.pid)], { stdio: 'ignore' });
const pid = hog.pid;
if (pid === undefined) throw new Error(`cannot start ${script}`);
const stop = (): void => {
  if (hog.exitCode === null && hog.signalCode === null) process.kill(pid, 'SIGTERM');
};
process.once('exit', stop);

// measured once the loops run (the shell needs a moment to fork them); every test file of this
// process gets the same factor
await new Promise((r) => setTimeout(r, 300));
const { SLOWNESS } = await import('./slowness.js');
process.stderr.write(`cpu-hog: pid ${pid}, ${seconds} s at most; slowness factor ${SLOWNESS.toFixed(2)}\n`);

export const mochaHooks = {
  afterAll(): void {
    stop();
  },
};
