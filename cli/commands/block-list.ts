import { deviceDiskGetinfo, deviceDiskList } from '../../lib/libxl/disk.js';
import { domainQualifierToDomid } from '../../lib/libxl/domain.js';
import { LibxlError } from '../../lib/libxl/errors.js';
import type { CliContext, Command } from '../command.js';
import { xlGetopt, type XlHelp } from '../getopt.js';
import { withLibxl } from '../libxl-session.js';

const help: XlHelp = {
  name: 'block-list',
  summary: 'List virtual block devices for a domain',
  usage: '<Domain(s)>',
};

/** printf's `%-<w>s` / `%-<w>d`. */
const col = (v: string | number, w: number): string => String(v).padEnd(w);

function row(cells: (string | number)[]): string {
  const widths = [5, 3, 6, 5, 6, 8, 30];
  return `${cells.map((c, i) => col(c, widths[i]!)).join(' ')}\n`;
}

// main_blocklist (tools/xl/xl_block.c): a bad domain or disk list skips that domain
async function run(cli: CliContext, argv: string[]): Promise<number> {
  const parsed = xlGetopt(cli.io, argv, '', [], help, 1);
  if (typeof parsed === 'number') return parsed;
  cli.io.out(row(['Vdev', 'BE', 'handle', 'state', 'evt-ch', 'ring-ref', 'BE-path']));
  return withLibxl(cli, async (ctx) => {
    for (const q of parsed.rest) {
      let domid: number;
      try {
        domid = await domainQualifierToDomid(ctx, q);
      } catch {
        cli.io.err(`${q} is an invalid domain identifier\n`);
        continue;
      }
      let disks;
      try {
        disks = await deviceDiskList(ctx, domid);
      } catch (e) {
        if (e instanceof LibxlError) continue;
        throw e;
      }
      for (const disk of disks) {
        try {
          const i = await deviceDiskGetinfo(ctx, domid, disk);
          cli.io.out(row([i.devid, i.backendId, i.frontendId, i.state, i.evtch, i.rref, i.backend]));
        } catch (e) {
          if (!(e instanceof LibxlError)) throw e;
        }
      }
    }
    return 0;
  });
}

export const blockList: Command = { name: 'block-list', usage: help.usage, summary: help.summary, help, run };
