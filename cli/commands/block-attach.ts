import { parseDiskSpec, DiskSpecError, DiskScannerFatal } from '../../lib/xlu/disk/parse.js';
import { diskToJson } from '../../lib/libxl/json-disk.js';
import type { DeviceDisk } from '../../lib/libxl/types/disk.js';
import type { CliContext, Command } from '../command.js';
import { xlGetopt, type XlHelp } from '../getopt.js';

const help: XlHelp = {
  name: 'block-attach',
  summary: 'Create a new virtual block device',
  usage: '<Domain> <disk-spec-component(s)>...',
  modifies: true,
  canDryrun: true,
};

// parse_disk_config_multistring (xl_parse.c): libxlu's report on stderr, then exit 1
function parseDisk(cli: CliContext, specs: string[]): DeviceDisk | number {
  try {
    return parseDiskSpec(specs, { source: 'command line' });
  } catch (e) {
    if (e instanceof DiskSpecError) {
      cli.io.err(e.report);
      return 1;
    }
    if (e instanceof DiskScannerFatal) {
      cli.io.err(e.report);
      return e.exitStatus;
    }
    throw e;
  }
}

/**
 * main_blockattach (tools/xl/xl_block.c). colo-xl adds `--no-wait` (return once the xenstore
 * transaction has committed, without waiting for the backend to connect) and `--timeout SECONDS`.
 */
async function run(cli: CliContext, argv: string[]): Promise<number> {
  const parsed = xlGetopt(cli.io, argv, '', [{ name: 'no-wait', val: 'W' }, { name: 'timeout', val: 'T', hasArg: true }], help, 2);
  if (typeof parsed === 'number') return parsed;
  const wait = !parsed.options.some((o) => o.opt === 'W');
  const timeoutOpt = parsed.options.find((o) => o.opt === 'T')?.arg;
  const timeoutMs = timeoutOpt === undefined ? undefined : Number(timeoutOpt) * 1000;
  if (timeoutMs !== undefined && !(timeoutMs > 0)) {
    cli.io.err(`invalid --timeout ${timeoutOpt}: a number of seconds is needed\n`);
    return 2;
  }
  const [domain, ...specs] = parsed.rest as [string, ...string[]];

  // A numeric domain needs no xenstore (so `-N` stays a pure parse); a name is looked up.
  if (cli.dryRun && /^[0-9]*$/.test(domain)) {
    const disk = parseDisk(cli, specs);
    if (typeof disk === 'number') return disk;
    cli.io.out(`disk: ${diskToJson(disk)}\n`);
    return 0;
  }
  // the device layer (and its xenstore) is loaded only when a store is needed
  const [{ withLibxl, xlCall }, { domainQualifierToDomid }, { deviceDiskAdd }] = await Promise.all([
    import('../libxl-session.js'),
    import('../../lib/libxl/domain.js'),
    import('../../lib/libxl/disk.js'),
  ]);
  return withLibxl(cli, async (ctx) => {
    let domid: number;
    try {
      domid = await domainQualifierToDomid(ctx, domain);
    } catch {
      cli.io.err(`${domain} is an invalid domain identifier\n`);
      return 1;
    }
    const disk = parseDisk(cli, specs);
    if (typeof disk === 'number') return disk;
    if (cli.dryRun) {
      cli.io.out(`disk: ${diskToJson(disk)}\n`);
      return 0;
    }
    return xlCall(cli, 'libxl_device_disk_add failed.\n', async () => {
      await deviceDiskAdd(ctx, domid, disk, { wait, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
    });
  });
}

export const blockAttach: Command = { name: 'block-attach', usage: help.usage, summary: help.summary, help, run };
