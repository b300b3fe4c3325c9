/** `colo-xl domxml-from-native` / `domxml-to-native`: virsh's conversions between xl.cfg and libvirt XML. */
import { readFileSync } from 'node:fs';
import type { CliContext, Command } from '../command.js';
import { CliUsageError, EXIT_FAILURE, runCommandLine } from '../options.js';

const FROM_HELP = `Usage: colo-xl domxml-from-native xen-xl <ConfigFile>

Print the libvirt domain XML for an xl.cfg, as virsh domxml-from-native xen-xl does, with every
COLO disk's primary (quorum) and secondary (replication) block trees in the colo-xl extension
under <metadata>.
`;
const TO_HELP = `Usage: colo-xl domxml-to-native xen-xl <DomainXmlFile>

Print the xl.cfg for a libvirt domain XML written by domxml-from-native (or by hand), COLO disks
included.
`;

/** One direction: its input (`-` is stdin) is read, then converted; the status is what `convert` says. */
interface Conversion {
  name: string;
  usage: string;
  summary: string;
  help: string;
  /** The input, as the read failure names it. */
  what: string;
  convert(ctx: CliContext, file: string, data: string): Promise<number>;
}

function domxmlCommand(c: Conversion): Command {
  return {
    name: c.name,
    usage: c.usage,
    summary: c.summary,
    run: (ctx, argv) =>
      runCommandLine(ctx, { name: c.name, help: c.help, options: {} }, argv, async ({ positionals }) => {
        if (positionals.length !== 2) throw new CliUsageError('a config type and a file are needed');
        const [type, file] = positionals as [string, string];
        if (type !== 'xen-xl') throw new CliUsageError(`unsupported config type ${type} (only xen-xl)`);
        let data: string;
        try {
          data = readFileSync(file === '-' ? 0 : file, 'utf8');
        } catch (e) {
          ctx.io.err(`colo-xl: cannot read ${c.what} ${file}: ${(e as Error).message}\n`);
          return EXIT_FAILURE;
        }
        return c.convert(ctx, file, data);
      }),
  };
}

// virsh domxml-from-native xen-xl
async function fromNative(ctx: CliContext, file: string, data: string): Promise<number> {
  const { parseConfigData, XlExit } = await import('../../lib/xl/parse.js');
  const { domainConfigToXml, DomXmlError, XML_CONVERTED_KEYS } = await import('../../lib/libvirt/domxml.js');
  try {
    const d = parseConfigData(file, data, { err: (t) => ctx.io.err(t) });
    const dropped = [...d.unsupported, ...d.read.filter((k) => !XML_CONVERTED_KEYS.has(k.name))].sort((a, b) => a.line - b.line);
    for (const u of dropped) ctx.io.err(`colo-xl: ${file}:${u.line}: \`${u.name}' is not converted and was ignored\n`);
    ctx.io.out(domainConfigToXml(d));
    return 0;
  } catch (e) {
    // the parser has said why, in xl's words
    if (e instanceof XlExit) return EXIT_FAILURE;
    if (!(e instanceof DomXmlError)) throw e;
    ctx.io.err(`colo-xl: ${e.message}\n`);
    return EXIT_FAILURE;
  }
}

// virsh domxml-to-native xen-xl
async function toNative(ctx: CliContext, file: string, data: string): Promise<number> {
  const { domainXmlToXlCfg, DomXmlError } = await import('../../lib/libvirt/domxml.js');
  const { XmlError } = await import('../../lib/libvirt/xml.js');
  const { XlFormatError } = await import('../../lib/xlu/format.js');
  try {
    const r = domainXmlToXlCfg(data);
    for (const i of r.ignored) ctx.io.err(`colo-xl: ${file}: ${i} is not converted and was ignored\n`);
    ctx.io.out(r.cfg);
    return 0;
  } catch (e) {
    if (!(e instanceof DomXmlError || e instanceof XmlError || e instanceof XlFormatError)) throw e;
    ctx.io.err(`colo-xl: ${file}: ${e.message}\n`);
    return EXIT_FAILURE;
  }
}

const FROM = { name: 'domxml-from-native', usage: 'xen-xl <ConfigFile>', help: FROM_HELP, what: 'config file', convert: fromNative };
export const domxmlFromNative = domxmlCommand({ ...FROM, summary: 'Convert an xl.cfg (COLO disks included) to libvirt domain XML' });
const TO = { name: 'domxml-to-native', usage: 'xen-xl <DomainXmlFile>', help: TO_HELP, what: 'domain XML', convert: toNative };
export const domxmlToNative = domxmlCommand({ ...TO, summary: 'Convert libvirt domain XML (COLO extension included) to an xl.cfg' });
