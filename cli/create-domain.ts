/**
 * xl's create_domain (tools/xl/xl_vmcontrol.c, Xen 4.17) up to the point where a real create
 * would call libxl: read the file, append key=value words, parse, print the JSON.
 */

import { readFileSync, statSync } from 'node:fs';
import type { CliContext } from './command.js';
import { domainConfigToJson } from '../lib/libxl/json.js';
import { parseConfigData, XlExit } from '../lib/xl/parse.js';
import { readXlGlobals } from '../lib/xl/globals.js';
import { strerror } from '../lib/util/errno.js';

export interface CreateDomainArgs {
  filename: string | null;
  /** key=value words, each followed by a newline. */
  extra: string | null;
  dryRun: boolean;
  quiet: boolean;
  debug: boolean;
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
  io.err('colo-xl: creating a domain needs a Xen host; use the dry run (colo-xl -N create)\n');
  return 3;
}
