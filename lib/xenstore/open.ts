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
import { StateLockedError } from './server/lock.js';
import { UnixSocketTransport, XENBUS_DEVICE, XenbusDeviceTransport, defaultSocketPath } from './transport.js';

export interface OpenXenstoreOptions {
  env?: NodeJS.ProcessEnv;
  /** A socket to use instead of the libxenstore lookup. */
  socketPath?: string;
  /** Where the embedded store keeps its journal (default: see defaultStatePath). */
  statePath?: string;
  /**
   * 'auto' (default): a live daemon, else the embedded store. 'daemon': fail without a daemon.
   * 'embedded': always the persisted embedded store. 'memory': a fresh in-memory embedded store
   * of its own (for tests).
   */
  mode?: 'auto' | 'daemon' | 'embedded' | 'memory';
  /** How long to wait for another process to let go of the embedded store (default 10 s). */
  lockWaitMs?: number;
  timeoutMs?: number;
  /** How long a daemon gets to answer the first request (default 2 s). */
  probeTimeoutMs?: number;
}

export function defaultStatePath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'colo-xl', 'xenstore.journal');
}

interface Lease {
  store: EmbeddedXenstored;
  clients: number;
}

// One embedded store per journal file per process, shared by its clients (so they see each
// other's watches) and let go, with its lock, when the last one closes.
const leases = new Map<string, Lease>();

async function leaseEmbedded(statePath: string, waitMs: number): Promise<Lease> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const held = leases.get(statePath);
    if (held) return held;
    try {
      const lease = { store: new EmbeddedXenstored({ statePath }), clients: 0 };
      leases.set(statePath, lease);
      return lease;
    } catch (e) {
      // Another colo-xl process works on the store: wait for it, like a client waits for a daemon.
      if (!(e instanceof StateLockedError) || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
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
  if (mode === 'auto' || mode === 'daemon') {
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
  if (mode === 'memory') return new EmbeddedXenstored().client({ timeoutMs: opts.timeoutMs });
  const statePath = opts.statePath ?? defaultStatePath(env);
  const lease = await leaseEmbedded(statePath, opts.lockWaitMs ?? 10_000);
  lease.clients++;
  return lease.store.client({
    timeoutMs: opts.timeoutMs,
    onClose: async () => {
      if (--lease.clients > 0) return;
      leases.delete(statePath);
      await lease.store.close();
    },
  });
}
