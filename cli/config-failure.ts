/**
 * How the commands that read an xl.cfg and build from it (devmodel-args, colo launch) report the
 * failures xl and libxl report: the parser has already said why (XlExit), libxl's refusals are
 * `libxl: error:` lines, an unreadable file is xl's "Failed to read config file".
 */
import type { CliContext } from './command.js';
import { XlExit } from '../lib/xl/parse.js';
import { LibxlError } from '../lib/libxl/errors.js';
import { QemuOptionError } from '../lib/libxl/dm/qemu-opts.js';

/** Says `e` the way xl would and returns true, or returns false for an error that is not one of these. */
export function reportConfigFailure(ctx: CliContext, file: string, e: unknown): boolean {
  if (e instanceof XlExit) return true;
  if (e instanceof LibxlError || e instanceof QemuOptionError) {
    ctx.io.err(`libxl: error: ${e.message}\n`);
    return true;
  }
  if ((e as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
    ctx.io.err(`Failed to read config file: ${file}: ${(e as Error).message}\n`);
    return true;
  }
  return false;
}
