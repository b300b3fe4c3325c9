/** `colo-xl xenstored` from source in a child process, for tests and benchmarks. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XsClient } from '../../lib/xenstore/client.js';
import { UnixSocketTransport } from '../../lib/xenstore/transport.js';

const entry = join(dirname(fileURLToPath(import.meta.url)), 'cli-entry.ts');

export interface CliDaemon {
  child: ChildProcess;
  socket: string;
  /** SIGTERM (clean shutdown) unless told otherwise; resolves once the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

/** Starts the daemon on `socket` (journalled to `state` if given); resolves once it answers. */
export async function startCliDaemon(socket: string, state?: string, extraArgs: string[] = []): Promise<CliDaemon> {
  const args = ['--import', 'tsx', entry, 'xenstored', '--socket', socket, ...(state ? ['--state', state] : []), ...extraArgs];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  // Never outlive the test process, whatever happens to its cleanup hooks.
  const onExit = (): void => void child.kill('SIGKILL');
  process.once('exit', onExit);
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    process.off('exit', onExit);
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited(child);
  };
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if (existsSync(socket)) {
      try {
        const c = new XsClient(await UnixSocketTransport.connect(socket), { timeoutMs: 1000 });
        await c.read('/');
        await c.close();
        return { child, socket, stop };
      } catch {
        // not ready yet
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop('SIGKILL');
  throw new Error(`colo-xl xenstored did not come up on ${socket}: ${err}`);
}
