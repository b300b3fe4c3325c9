/** `colo-xl devmodel-args`: parse an xl.cfg like xl, create (or restore) like libxl, print QEMU's argv. */
import { readFileSync } from 'node:fs';
import type { CliContext } from './command.js';
import { parseConfigData } from '../lib/xl/parse.js';
import { domainCreateNew, domainCreateRestore } from '../lib/libxl/create.js';
import { readXlGlobals } from '../lib/xl/globals.js';
import { reportConfigFailure } from './config-failure.js';
import { EXIT_FAILURE } from './options.js';

export interface DevmodelArgsRequest {
  domid: number;
  restore: 'none' | 'remus' | 'colo' | null;
  monitorFd?: number;
  stateFd?: number;
  file: string;
}

export async function printDeviceModelArgs(ctx: CliContext, req: DevmodelArgsRequest): Promise<number> {
  const { io } = ctx;
  try {
    const data = readFileSync(req.file, 'utf8');
    const config = parseConfigData(req.file, data, { err: (t) => io.err(t), globals: readXlGlobals() });
    for (const u of config.unsupported) {
      io.err(`colo-xl: ${req.file}:${u.line}: \`${u.name}' is not supported by colo-xl and was ignored\n`);
    }
    const opts = { domid: req.domid, monitorFd: req.monitorFd, savedStateFd: req.stateFd };
    const created =
      req.restore === null
        ? domainCreateNew(config, opts)
        : domainCreateRestore(config, { checkpointed_stream: req.restore }, opts);
    for (const w of created.dm.warnings) io.err(`libxl: warning: ${w}\n`);
    io.out(created.dm.args.map((a) => a + '\n').join(''));
    return 0;
  } catch (e) {
    if (reportConfigFailure(ctx, req.file, e)) return EXIT_FAILURE;
    throw e;
  }
}
