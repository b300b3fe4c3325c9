import { readFileSync } from 'node:fs';
import type { CliContext, Command } from '../command.js';

const FROM_USAGE = `Usage: colo-xl domxml-from-native xen-xl <ConfigFile>

Print the libvirt domain XML for an xl.cfg, as virsh domxml-from-native xen-xl does, with every
COLO disk's primary (quorum) and secondary (replication) block trees in the colo-xl extension
under <metadata>.
`;
const TO_USAGE = `Usage: colo-xl domxml-to-native xen-xl <DomainXmlFile>

Print the xl.cfg for a libvirt domain XML written by domxml-from-native (or by hand), COLO disks
included.
`;

function readInput(ctx: CliContext, what: string, path: string): string | null {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (e) {
    ctx.io.err(`colo-xl: cannot read ${what} ${path}: ${(e as Error).message}\n`);
    return null;
  }
}

/** `<format> <file>`, or a usage error (2) / help (0). */
function args(ctx: CliContext, argv: string[], usage: string): string | number {
  if (argv.length === 1 && (argv[0] === '-h' || argv[0] === '--help')) {
    ctx.io.out(usage);
    return 0;
  }
  if (argv.length !== 2) {
    ctx.io.err(usage);
    return 2;
  }
  if (argv[0] !== 'xen-xl') {
    ctx.io.err(`colo-xl: unsupported config type ${argv[0]} (only xen-xl)\n`);
    return 2;
  }
  return argv[1]!;
}

export const domxmlFromNative: Command = {
  name: 'domxml-from-native',
  usage: 'xen-xl <ConfigFile>',
  summary: 'Convert an xl.cfg (COLO disks included) to libvirt domain XML',
  async run(ctx, argv) {
    const file = args(ctx, argv, FROM_USAGE);
    if (typeof file === 'number') return file;
    const data = readInput(ctx, 'config file', file);
    if (data === null) return 3;
    const { parseConfigData, XlExit } = await import('../../lib/xl/parse.js');
    const { domainConfigToXml, DomXmlError, XML_CONVERTED_KEYS } = await import('../../lib/libvirt/domxml.js');
    try {
      const d = parseConfigData(file, data, { err: (t) => ctx.io.err(t) });
      const dropped = [...d.unsupported, ...d.read.filter((k) => !XML_CONVERTED_KEYS.has(k.name))].sort((a, b) => a.line - b.line);
      for (const u of dropped) ctx.io.err(`colo-xl: ${file}:${u.line}: \`${u.name}' is not converted and was ignored\n`);
      ctx.io.out(domainConfigToXml(d));
      return 0;
    } catch (e) {
      if (e instanceof XlExit) return e.status;
      if (e instanceof DomXmlError) {
        ctx.io.err(`colo-xl: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  },
};

export const domxmlToNative: Command = {
  name: 'domxml-to-native',
  usage: 'xen-xl <DomainXmlFile>',
  summary: 'Convert libvirt domain XML (COLO extension included) to an xl.cfg',
  async run(ctx, argv) {
    const file = args(ctx, argv, TO_USAGE);
    if (typeof file === 'number') return file;
    const data = readInput(ctx, 'domain XML', file);
    if (data === null) return 3;
    const { domainXmlToXlCfg, DomXmlError } = await import('../../lib/libvirt/domxml.js');
    const { XmlError } = await import('../../lib/libvirt/xml.js');
    const { XlFormatError } = await import('../../lib/xlu/format.js');
    try {
      const r = domainXmlToXlCfg(data);
      for (const i of r.ignored) ctx.io.err(`colo-xl: ${file}: ${i} is not converted and was ignored\n`);
      ctx.io.out(r.cfg);
      return 0;
    } catch (e) {
      if (e instanceof DomXmlError || e instanceof XmlError || e instanceof XlFormatError) {
        ctx.io.err(`colo-xl: ${file}: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  },
};
