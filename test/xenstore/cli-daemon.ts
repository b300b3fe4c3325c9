/** `colo-xl xenstored` from source in a child process, for tests and benchmarks. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XsClient } from '../../lib/xenstore/client.js';
import { UnixSocketTransport } from '../../lib/xenstore/transport.js';
import { CLI_ENTRY } from '../support/cli.js';
import { startRealXenstored, type RealXenstored } from '../support/real-xenstored.js';

const entry = CLI_ENTRY;

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

/** C xenstored 4.17 and colo-xl's, side by side, for the differential sessions. */
export interface DaemonPair {
  /** The C daemon's socket. */
  readonly realSocket: string;
  /** colo-xl xenstored's socket. */
  readonly ourSocket: string;
}

/**
 * Registers mocha hooks that start both daemons before the suite (after `ready`, which checks
 * the tools a suite needs) and stop them after it; the pair's sockets are read inside the tests.
 */
export function useDaemonPair(prefix: string, ready: () => void = () => undefined): DaemonPair {
  let real: RealXenstored | undefined;
  let ours: CliDaemon | undefined;
  let dir: string | undefined;
  before(async () => {
    ready();
    real = await startRealXenstored();
    dir = mkdtempSync(join(tmpdir(), prefix));
    ours = await startCliDaemon(join(dir, 'socket'));
  });
  after(async () => {
    await real?.stop();
    await ours?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    get realSocket() {
      return real!.socketPath;
    },
    get ourSocket() {
      return ours!.socket;
    },
  };
}
