import { EmbeddedXenstored } from '../../xenstore/server/embedded.js';
import { defaultSocketPath } from '../../xenstore/transport.js';
import type { CliContext, Command } from '../command.js';

const usage = '[--socket PATH] [--state FILE]';

/**
 * `colo-xl xenstored`: the embedded xenstore daemon in the foreground, on the socket
 * libxenstore clients find through XENSTORED_PATH. With --state every committed change is
 * journalled and synced before it is acknowledged. Stops cleanly on SIGINT/SIGTERM.
 */
async function run(ctx: CliContext, argv: string[]): Promise<number> {
  let socketPath: string | undefined;
  let statePath: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (flag === '-h' || flag === '--help') {
      ctx.io.out(`Usage: colo-xl xenstored ${usage}\n\nServe the embedded xenstore on a unix socket, in the foreground.\n`);
      return 0;
    }
    if (flag !== '--socket' && flag !== '-s' && flag !== '--state') {
      ctx.io.err(`colo-xl xenstored: unknown argument ${a}\nUsage: colo-xl xenstored ${usage}\n`);
      return 2;
    }
    const value = inline ?? argv[++i];
    if (!value) {
      ctx.io.err(`colo-xl xenstored: ${flag} needs a value\n`);
      return 2;
    }
    if (flag === '--state') statePath = value;
    else socketPath = value;
  }
  socketPath ??= defaultSocketPath(ctx.env);
  let daemon: EmbeddedXenstored | undefined;
  try {
    daemon = new EmbeddedXenstored({ statePath });
    await daemon.listen(socketPath);
  } catch (e) {
    // Let go of the state file's lock at once: the caller may retry in this same process.
    await daemon?.close();
    ctx.io.err(`colo-xl xenstored: ${(e as Error).message}\n`);
    return 1;
  }
  if (ctx.verbose > 0) ctx.io.err(`colo-xl xenstored: serving ${socketPath}${statePath ? ` (state ${statePath})` : ''}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await daemon.close();
  return 0;
}

export const xenstored: Command = {
  name: 'xenstored',
  usage,
  summary: 'Serve the embedded xenstore on a unix socket',
  run,
};
