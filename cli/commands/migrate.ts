/**
 * `colo-xl migrate [options] <Domain> <host>`: seed 004's `xl migrate -q` for a QEMU/KVM host. As
 * xl does, it starts the receiver with `ssh <host> colo-xl migrate-receive` (or `-s`), talks to it
 * over that pipe (JSON lines, see lib/migrate/channel.ts), mirrors the local disks to the
 * receiver's NBD exports, then migrates the memory. Ctrl-C cancels and rolls back.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Command, CliContext } from '../command.js';
import { xlGetopt, type XlHelp } from '../getopt.js';
import { QMPClient } from '../../lib/qmp/client.js';
import { ControlClient } from '../../lib/migrate/channel.js';
import { ProgressPrinter } from '../../lib/migrate/progress.js';
import { migrateDomain } from '../../lib/migrate/source.js';
import { MigrateError, type MigrateEvent } from '../../lib/migrate/types.js';
import { errorCode, Output } from '../options.js';

const help: XlHelp = {
  name: 'migrate',
  summary: 'Migrate a domain and its local disks to another host',
  usage: '[options] <Domain> <host>',
  options:
    '-h                  Print this help.\n' +
    '-s <sshcommand>     Run the receiver with <sshcommand> instead of ssh (through sh);\n' +
    '                    when empty, <host> itself is the command that runs\n' +
    '                    colo-xl migrate-receive.\n' +
    '--address <addr>    Destination address for NBD and the memory stream\n' +
    '                    (default: <host>, or 127.0.0.1 with -s "").\n' +
    '--bandwidth <rate>  Limit each disk mirror and the memory stream to <rate>\n' +
    '                    bytes/s (suffixes K, M, G).\n' +
    '--tls-dir <dir>     Encrypt NBD and the memory stream with the x509 files in <dir>.\n' +
    '--run-dir <dir>     Where qmp-libxl-<domid> sockets live (default /var/run/xen).\n' +
    '--json              Progress and the report as JSON lines.',
  modifies: true,
};

const LONG = [
  { name: 'address', val: 'A', hasArg: true },
  { name: 'bandwidth', val: 'B', hasArg: true },
  { name: 'tls-dir', val: 'T', hasArg: true },
  { name: 'run-dir', val: 'R', hasArg: true },
  { name: 'json', val: 'J' },
];

/** A migration event as a JSON record: its `type` becomes the records' one discriminator, `kind`. */
function withoutType(e: MigrateEvent): Record<string, unknown> {
  const { type: _t, ...fields } = e;
  return fields;
}

/** "64M" → 67108864; plain numbers are bytes. */
export function parseRate(s: string): number | null {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)$/i.exec(s.trim());
  if (!m) return null;
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
  const n = Math.floor(Number(m[1]) * mult);
  return n > 0 ? n : null;
}

async function run(ctx: CliContext, argv: string[]): Promise<number> {
  const parsed = xlGetopt(ctx.io, argv, 's:', LONG, help, 2);
  if (typeof parsed === 'number') return parsed;
  let ssh = 'ssh';
  let address: string | null = null;
  let rate: number | undefined;
  let tlsDir: string | undefined;
  let runDir = '/var/run/xen';
  let json = false;
  for (const { opt, arg } of parsed.options) {
    if (opt === 's') ssh = arg!;
    else if (opt === 'A') address = arg!;
    else if (opt === 'T') tlsDir = arg!;
    else if (opt === 'R') runDir = arg!;
    else if (opt === 'J') json = true;
    else if (opt === 'B') {
      const r = parseRate(arg!);
      if (r === null) {
        ctx.io.err(`colo-xl migrate: bad --bandwidth '${arg}': bytes/s, e.g. 100M\n`);
        return 2;
      }
      rate = r;
    }
  }
  const [domain, host] = parsed.rest as [string, string];
  // a domain is its QMP socket: a path as is, a domid under the run directory (libxl's name)
  const qmpPath = domain.includes('/') ? domain : join(runDir, `qmp-libxl-${domain}`);
  address ??= ssh === '' ? '127.0.0.1' : host.replace(/^.*@/, '');
  const rune = ssh === '' ? host : `exec ${ssh} ${host} colo-xl migrate-receive${tlsDir ? ` --tls-dir ${tlsDir}` : ''}`;

  const out = new Output(ctx.io, json);
  let qmp: QMPClient;
  try {
    qmp = await QMPClient.open(qmpPath, { name: 'migrate-source' });
  } catch (e) {
    out.error('colo-xl migrate', errorCode(e), `cannot reach domain ${domain} (QMP ${qmpPath}): ${(e as Error).message}`);
    return 1;
  }
  const child = spawn('sh', ['-c', rune], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (t: string) => ctx.io.err(t));
  child.stdin.on('error', () => undefined);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const peer = new ControlClient(child.stdout, (l) => void child.stdin.write(l));
  const ac = new AbortController();
  const onSigint = (): void => ac.abort('interrupted');
  process.once('SIGINT', onSigint);
  const printer = new ProgressPrinter((t) => ctx.io.out(t));
  try {
    await migrateDomain({
      qmp,
      peer,
      address,
      mirrorSpeed: rate,
      migrateSpeed: rate,
      tlsDir,
      signal: ac.signal,
      onEvent: (e) => (json ? out.emit(e.type, withoutType(e)) : printer.event(e)),
    });
    return 0;
  } catch (e) {
    if (!(e instanceof MigrateError)) throw e;
    out.error('colo-xl migrate', errorCode(e), e.message);
    ctx.io.err(`colo-xl migrate: rolled back: domain ${domain} still runs here on its own disks; the destination was torn down\n`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onSigint);
    child.stdin.end();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await qmp.disconnect();
  }
}

export const migrate: Command = { name: 'migrate', usage: help.usage, summary: help.summary, help, run };
