/**
 * How every colo-xl command reaches xenstore: a real daemon when one answers (the socket
 * libxenstore would use, then the xenbus device), otherwise the embedded store persisted
 * under $XDG_STATE_HOME/colo-xl/ (or ~/.local/state/colo-xl/).
 */
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { XsClient } from './client.js';
import { XsOp, joinStrings } from './messages.js';
import { EmbeddedXenstored } from './server/embedded.js';
import { UnixSocketTransport, XENBUS_DEVICE, XenbusDeviceTransport, defaultSocketPath } from './transport.js';

export interface OpenXenstoreOptions {
  env?: NodeJS.ProcessEnv;
  /** A socket to use instead of the libxenstore lookup. */
  socketPath?: string;
  /** Where the embedded store keeps its journal (default: see defaultStatePath). */
  statePath?: string;
  /** 'auto' (default): a live daemon, else embedded. 'daemon': fail without one. 'embedded': always embedded. */
  mode?: 'auto' | 'daemon' | 'embedded';
  timeoutMs?: number;
  /** How long a daemon gets to answer the first request (default 2 s). */
  probeTimeoutMs?: number;
}

export function defaultStatePath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'colo-xl', 'xenstore.journal');
}

// One embedded store per journal file per process, so clients in one process see each other.
const embedded = new Map<string, EmbeddedXenstored>();

export function embeddedStore(statePath: string): EmbeddedXenstored {
  let e = embedded.get(statePath);
  if (!e) {
    e = new EmbeddedXenstored({ statePath });
    embedded.set(statePath, e);
  }
  return e;
}

async function trySocket(path: string, timeoutMs: number, probeMs: number): Promise<XsClient | undefined> {
  try {
    if (!existsSync(path) || !statSync(path).isSocket()) return undefined;
    const client = new XsClient(await UnixSocketTransport.connect(path), { timeoutMs: probeMs });
    await client.request(XsOp.IS_DOMAIN_INTRODUCED, joinStrings(['0']), 0);
    await client.close();
    return new XsClient(await UnixSocketTransport.connect(path), { timeoutMs });
  } catch {
    return undefined;
  }
}

export async function openXenstore(opts: OpenXenstoreOptions = {}): Promise<XsClient> {
  const env = opts.env ?? process.env;
  const mode = opts.mode ?? 'auto';
  if (mode !== 'embedded') {
    const path = opts.socketPath ?? defaultSocketPath(env);
    const client = await trySocket(path, opts.timeoutMs ?? 30_000, opts.probeTimeoutMs ?? 2000);
    if (client) return client;
    if (!opts.socketPath && existsSync(XENBUS_DEVICE)) {
      try {
        return new XsClient(XenbusDeviceTransport.open(), { timeoutMs: opts.timeoutMs });
      } catch {
        // not usable (no permission, not a Xen kernel): fall through
      }
    }
    if (mode === 'daemon') throw new Error(`no xenstored answers on ${path}`);
  }
  return embeddedStore(opts.statePath ?? defaultStatePath(env)).client({ timeoutMs: opts.timeoutMs });
}
