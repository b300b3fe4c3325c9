import { accessSync, constants } from 'node:fs';

/**
 * Tests that need a real component (a Debian package) call this first. In CI `.ci/run` installs
 * the packages, so a missing one is a failure with the package named, never a skipped test.
 */
export function requireFile(path: string, debianPackage: string): string {
  try {
    accessSync(path, constants.R_OK);
  } catch {
    throw new Error(`${path} is missing: install the Debian package ${debianPackage} (tools/test.sh does it as root)`);
  }
  return path;
}
