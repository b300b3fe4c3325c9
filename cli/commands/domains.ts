/**
 * `colo-xl list` and `colo-xl destroy` on a real hypervisor, through libxenlight: xl's main_list
 * (tools/xl/xl_info.c, the default table) and main_destroy (xl_vmcontrol.c), Xen 4.17.
 */
import type { Command } from '../command.js';
import { printXlHelp, xlGetopt, type XlHelp } from '../getopt.js';
import { findDomain, withLibxenlight } from '../libxenlight-session.js';
import type { Dominfo } from '../../lib/native/libxenlight.js';

const listHelp: XlHelp = {
  name: 'list',
  summary: 'List information about all/some domains',
  usage: '[options] [Domain]\n',
  options: '-l, --long                              Output all VM details\n-v, --verbose                           Prints out UUIDs and security context\n-Z, --context                           Prints out security context\n-c, --cpupool                           Prints the cpupool the domain is in\n-n, --numa                              Prints out NUMA node affinity',
};

const destroyHelp: XlHelp = {
  name: 'destroy',
  summary: 'Terminate a domain immediately',
  usage: '[options] <Domain>\n',
  options: '-f                      Permit destroying domain 0, which will only succeed\n                        when run from disaggregated toolstack domain with a\n                        hardware domain distinct from domain 0.',
};

// libxl_shutdown_reason's letters, as list_domains prints them
const SHUTDOWN_LETTERS = '-rscwS';

/** One row of list_domains: `%-40s %5d %5lu %5d     %c%c%c%c%c%c  %8.1f`. */
function listRow(name: string, d: Dominfo): string {
  const mem = Math.floor((Number(d.current_memkb) + Number(d.outstanding_memkb ?? 0)) / 1024);
  const reason = d.shutdown ? shutdownReason(d.shutdown_reason) : 0;
  const flags = [
    d.running ? 'r' : '-',
    d.blocked ? 'b' : '-',
    d.paused ? 'p' : '-',
    d.shutdown ? 's' : '-',
    reason >= 0 && reason < SHUTDOWN_LETTERS.length ? SHUTDOWN_LETTERS[reason] : '?',
    d.dying ? 'd' : '-',
  ].join('');
  // C prints a float here: cpu_time / 1e9 rounded to one place
  const time = Math.fround(Number(d.cpu_time) / 1e9).toFixed(1);
  return `${name.padEnd(40)} ${String(d.domid).padStart(5)} ${String(mem).padStart(5)} ${String(d.vcpu_online).padStart(5)}     ${flags}  ${time.padStart(8)}\n`;
}

// libxl_dominfo_to_json writes the enum by name
const REASONS = ['poweroff', 'reboot', 'suspend', 'crash', 'watchdog', 'soft_reset'];
function shutdownReason(v: unknown): number {
  if (typeof v === 'number') return v;
  return REASONS.indexOf(String(v));
}

/** An xl command of this file: its name, usage and summary are its help's. */
function xlCommand(help: XlHelp, run: Command['run']): Command {
  return { name: help.name, usage: help.usage.trim(), summary: help.summary, help, run };
}

export const list = xlCommand(listHelp, async (cli, argv) => {
  const parsed = xlGetopt(cli.io, argv, 'lvhZcn', [], listHelp, 0);
  if (typeof parsed === 'number') return parsed;
  if (parsed.options.length > 0) {
    cli.io.err(`colo-xl list: -${parsed.options.map((o) => o.opt).join(' -')} not supported (colo-xl prints the default table only)\n`);
    return 2;
  }
  if (parsed.rest.length > 1) {
    // main_list: help("list"), then failure
    printXlHelp(cli.io, listHelp);
    return 1;
  }
  return withLibxenlight(cli, (xl) => {
    let infos: Dominfo[];
    const q = parsed.rest[0];
    if (q === undefined) {
      infos = xl.listDomain();
    } else {
      const domid = findDomain(cli, xl, q);
      if (domid === undefined) return 1;
      const one = xl.domainInfo(domid);
      if (!one) {
        cli.io.err(`Error: Domain '${q}' does not exist.\n`);
        return 1;
      }
      infos = [one];
    }
    cli.io.out('Name                                        ID   Mem VCPUs\tState\tTime(s)\n');
    for (const d of infos) cli.io.out(listRow(xl.domidToName(d.domid) ?? '(null)', d));
    return 0;
  });
});

export const destroy = xlCommand(destroyHelp, async (cli, argv) => {
  const parsed = xlGetopt(cli.io, argv, 'f', [], destroyHelp, 1);
  if (typeof parsed === 'number') return parsed;
  const force = parsed.options.some((o) => o.opt === 'f');
  return withLibxenlight(cli, (xl) => {
    const domid = findDomain(cli, xl, parsed.rest[0]!);
    if (domid === undefined) return 1;
    if (domid === 0 && !force) {
      cli.io.err('Not destroying domain 0; use -f to force.\nThis can only be done when using a disaggregated hardware domain and toolstack.\n\n');
      return 1;
    }
    try {
      xl.domainDestroy(domid);
    } catch (e) {
      const rc = (e as { rc?: number }).rc;
      if (rc === undefined) throw e;
      cli.io.err(`destroy failed (rc=${rc})\n`);
      return 1;
    }
    return 0;
  });
});
