/**
 * xl's create_domain (tools/xl/xl_vmcontrol.c, Xen 4.17): read the file, append key=value words,
 * parse; the dry run prints the JSON, a real create hands that JSON to Xen's libxenlight
 * (libxl_domain_create_new) on a Xen host and unpauses the domain unless -p.
 */

import { readFileSync, statSync } from 'node:fs';
import type { CliContext } from './command.js';
import { domainConfigToJson } from '../lib/libxl/json.js';
import { parseConfigData, XlExit } from '../lib/xl/parse.js';
import { readXlGlobals } from '../lib/xl/globals.js';
import { strerror } from '../lib/util/errno.js';
import { xenPresence } from '../lib/xenstore/open.js';
import { withLibxenlight } from './libxenlight-session.js';

export interface CreateDomainArgs {
  filename: string | null;
  /** key=value words, each followed by a newline. */
  extra: string | null;
  dryRun: boolean;
  quiet: boolean;
  debug: boolean;
  /** -p: leave the domain paused. */
  paused: boolean;
}

// create_domain (the dry-run path)
export async function createDomainDryRun(ctx: CliContext, args: CreateDomainArgs): Promise<number> {
  const { io } = ctx;
  if (args.filename === null) {
    io.err('Config file not specified and none in save file\n');
    return 6; // -ERROR_INVAL
  }
  let data = '';
  if (args.filename !== '/dev/null') {
    const st = statSync(args.filename, { throwIfNoEntry: false });
    if (st && !st.isFile()) {
      // libxl_read_file_contents refuses anything but a plain file, with errno ENOTTY.
      io.err(`libxl: error: libxl_utils.c:346:libxl_read_file_contents: ${args.filename} is not a plain file: Inappropriate ioctl for device\n`);
      io.err(`Failed to read config file: ${args.filename}: Inappropriate ioctl for device\n`);
      return 3;
    }
    try {
      data = readFileSync(args.filename, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      io.err(`Failed to read config file: ${args.filename}: ${strerror(code) ?? code}\n`);
      return 3; // -ERROR_FAIL
    }
  }
  if (args.extra) data += `\n${args.extra}\n`;
  if (!args.quiet) io.err(`Parsing config from ${args.filename}\n`);
  let json: string;
  try {
    const d = parseConfigData(args.filename, data, { err: (t) => io.err(t), globals: readXlGlobals() });
    for (const u of d.unsupported) {
      io.err(`colo-xl: ${args.filename}:${u.line}: \`${u.name}' is not supported by colo-xl and was ignored\n`);
    }
    json = domainConfigToJson(d);
  } catch (e) {
    if (e instanceof XlExit) return e.status;
    throw e;
  }
  if (args.dryRun) {
    io.out(json);
    return 0;
  }
  if (args.debug) io.err(json);
  if (xenPresence(ctx.env.COLO_XL_HOST_ROOT || '/') === undefined) {
    io.err('colo-xl: creating a domain needs a Xen host; use the dry run (colo-xl -N create)\n');
    return 3;
  }
  return withLibxenlight(ctx, (xl) => createDomain(xl, json, args.paused));
}

// create_domain from `start:` on, without xl's autoballoon lock and freemem, its console and
// vncviewer autoconnection, or the daemon it leaves to act on the domain's shutdown
function createDomain(xl: import('../lib/native/libxenlight.js').Libxenlight, json: string, paused: boolean): number {
  let domid: number;
  try {
    domid = xl.domainCreateNew(json);
  } catch (e) {
    const rc = (e as { rc?: number }).rc;
    if (rc === undefined) throw e;
    // libxl has said why; xl exits with the error number, made positive
    return -rc;
  }
  if (!paused) xl.domainUnpause(domid);
  return 0;
}
