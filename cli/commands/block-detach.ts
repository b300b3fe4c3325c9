import { deviceDiskRemove, vdevToDeviceDisk } from '../../lib/libxl/disk.js';
import { domainQualifierToDomid } from '../../lib/libxl/domain.js';
import { LibxlError } from '../../lib/libxl/errors.js';
import type { CliContext, Command } from '../command.js';
import { xlGetopt, type XlHelp } from '../getopt.js';
import { withLibxl, xlCall } from '../libxl-session.js';

const help: XlHelp = {
  name: 'block-detach',
  summary: "Destroy a domain's virtual block device",
  usage: '[option] <Domain> <DevId>',
  options: '-f, --force        do not wait for the domain to release the device',
  modifies: true,
};

// main_blockdetach (tools/xl/xl_block.c); colo-xl adds `--timeout SECONDS`
async function run(cli: CliContext, argv: string[]): Promise<number> {
  const parsed = xlGetopt(cli.io, argv, 'f', [{ name: 'force', val: 'f' }, { name: 'timeout', val: 'T', hasArg: true }], help, 2);
  if (typeof parsed === 'number') return parsed;
  const force = parsed.options.some((o) => o.opt === 'f');
  const timeout = parsed.options.find((o) => o.opt === 'T')?.arg;
  const [domain, vdev] = parsed.rest as [string, string];
  return withLibxl(cli, async (ctx) => {
    let domid: number;
    try {
      domid = await domainQualifierToDomid(ctx, domain);
    } catch (e) {
      // find_domain
      cli.io.err(`${domain} is an invalid domain identifier (rc=${e instanceof LibxlError ? e.rc : -6})\n`);
      return 1;
    }
    let disk;
    try {
      disk = await vdevToDeviceDisk(ctx, domid, vdev);
    } catch (e) {
      if (!(e instanceof LibxlError)) throw e;
      cli.io.err(`Error: Device ${vdev} not connected.\n`);
      return 1;
    }
    if (disk.specification === 'virtio') {
      cli.io.err("Hotunplug isn't supported for specification virtio\n");
      return 1;
    }
    const timeoutMs = timeout === undefined ? undefined : Number(timeout) * 1000;
    return xlCall(cli, `libxl_device_disk_${force ? 'destroy' : 'safe_remove'} failed.\n`, () =>
      deviceDiskRemove(ctx, domid, disk, force ? 'on' : 'off', timeoutMs === undefined ? {} : { timeoutMs }),
    );
  });
}

export const blockDetach: Command = { name: 'block-detach', usage: help.usage, summary: help.summary, help, run };
