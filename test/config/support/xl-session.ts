/**
 * What the suites comparing colo-xl with Xen 4.17's xl share: the real xl started once per suite
 * (test/support/real-xl.ts) with a scratch directory, and one way to tell and show a mismatch.
 */
import { scratchDir } from '../../support/fake-dir.js';
import { startRealXl, type RealXl, type XlResult } from '../../support/real-xl.js';

export interface XlSession {
  /** The real xl; set by the suite's before hook. */
  readonly xl: RealXl;
  /** A scratch directory, removed after the suite. */
  readonly dir: string;
}

/** Registers the suite's before/after hooks that start and stop the real xl and its directory. */
export function realXlSession(prefix: string): XlSession {
  const scratch = scratchDir(prefix);
  let xl: RealXl | undefined;
  before(async () => void (xl = await startRealXl()));
  after(async () => xl?.stop());
  return {
    get xl() {
      return xl!;
    },
    get dir() {
      return scratch.path;
    },
  };
}

export const sameResult = (a: XlResult, b: XlResult): boolean => a.stdout === b.stdout && a.stderr === b.stderr && a.status === b.status;

/** A mismatch as a reader wants it: the config, then each side's status and output. */
export function describeMismatch(name: string, text: string, real: XlResult, mine: XlResult): string {
  return `${name}:\n--- config\n${text}--- real (status ${real.status})\n${real.stdout}${real.stderr}--- colo-xl (status ${mine.status})\n${mine.stdout}${mine.stderr}`;
}
