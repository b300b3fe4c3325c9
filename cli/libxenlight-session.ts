/**
 * Runs a command on Xen's own libxenlight (lib/native/libxenlight.ts), as xl runs every command
 * on its libxl context: libxl's and libxenctrl's messages go straight to stderr in Xen's words, and
 * a context that cannot be had (no hypervisor) ends the command as xl_ctx_alloc ends xl.
 */
import type { CliContext } from './command.js';
import type { Libxenlight } from '../lib/native/libxenlight.js';

export async function withLibxenlight(cli: CliContext, fn: (xl: Libxenlight) => number | Promise<number>): Promise<number> {
  let native: typeof import('../lib/native/libxenlight.js');
  let load: typeof import('../lib/native/libxenstore.js');
  try {
    [native, load] = await Promise.all([import('../lib/native/libxenlight.js'), import('../lib/native/libxenstore.js')]);
  } catch (e) {
    // koffi itself is missing (an optional dependency)
    cli.io.err(`colo-xl: cannot load koffi, needed to reach libxenlight: ${(e as Error).message}\n`);
    return 1;
  }
  let xl: Libxenlight;
  try {
    xl = new native.Libxenlight({ verbose: cli.verbose });
  } catch (e) {
    if (e instanceof native.LibxenlightError) {
      cli.io.err('cannot init xl context\n');
      return 1;
    }
    if (e instanceof load.NativeLoadError) {
      cli.io.err(`colo-xl: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  try {
    return await fn(xl);
  } finally {
    xl.close();
  }
}

/** xl's find_domain: a number is a domid, anything else a name; xl's words and exit when neither. */
export function findDomain(cli: CliContext, xl: Libxenlight, q: string): number | undefined {
  if (/^\d+$/.test(q)) return Number(q);
  const domid = xl.nameToDomid(q);
  // libxl_name_to_domid answers ERROR_INVAL (-6) for a name no domain has
  if (domid === undefined) cli.io.err(`${q} is an invalid domain identifier (rc=-6)\n`);
  return domid;
}
