/** A throwaway directory for one suite's files: made before its tests, removed after them. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ScratchDir {
  /** The directory; set by the suite's before hook. */
  readonly path: string;
}

/** Registers the suite's before/after hooks for a directory named `<tmpdir>/<prefix>XXXXXX`. */
export function scratchDir(prefix: string): ScratchDir {
  const d = { path: '' };
  before(() => void (d.path = mkdtempSync(join(tmpdir(), prefix))));
  after(() => {
    if (d.path) rmSync(d.path, { recursive: true, force: true });
  });
  return d;
}
