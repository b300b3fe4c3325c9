import { parseDiskSpec, DiskSpecError, DiskScannerFatal } from '../../disk/parse.js';
import { diskToJson } from '../../disk/json.js';
import type { CliContext, Command } from '../command.js';
import { xlGetopt, type XlHelp } from '../getopt.js';

const help: XlHelp = {
  name: 'block-attach',
  summary: 'Create a new virtual block device',
  usage: '<Domain> <disk-spec-component(s)>...',
  modifies: true,
  canDryrun: true,
};

/**
 * libxl_domain_qualifier_to_domid: all digits is a domid (strtoul; "" is domain 0); anything
 * else is a domain name, which needs a xenstore to look up.
 */
export function domainQualifierToDomid(q: string): number | null {
  if (/^[0-9]*$/.test(q)) return q === '' ? 0 : Number(BigInt.asUintN(32, BigInt(q)));
  return null;
}

// main_blockattach (tools/xl/xl_block.c)
async function run(ctx: CliContext, argv: string[]): Promise<number> {
  const parsed = xlGetopt(ctx.io, argv, '', [], help, 2);
  if (typeof parsed === 'number') return parsed;
  const [domain, ...specs] = parsed.rest as [string, ...string[]];
  const domid = domainQualifierToDomid(domain);
  if (domid === null) {
    ctx.io.err(`${domain} is an invalid domain identifier\n`);
    return 1;
  }
  let disk;
  try {
    disk = parseDiskSpec(specs, { source: 'command line' });
  } catch (e) {
    if (e instanceof DiskSpecError) {
      ctx.io.err(e.report);
      return 1;
    }
    if (e instanceof DiskScannerFatal) {
      ctx.io.err(e.report);
      return e.exitStatus;
    }
    throw e;
  }
  if (ctx.dryRun) {
    ctx.io.out(`disk: ${diskToJson(disk)}\n`);
    return 0;
  }
  ctx.io.err(
    'colo-xl: block-attach without -N needs the disk device layer, which this build does not have yet\n',
  );
  return 1;
}

export const blockAttach: Command = { name: 'block-attach', usage: help.usage, summary: help.summary, help, run };
