/**
 * How every colo-xl command reaches xenstore: the daemon (the socket libxenstore would use, then
 * the xenbus device), or the embedded store persisted under $XDG_STATE_HOME/colo-xl/ (or
 * ~/.local/state/colo-xl/). The embedded store is a stand-in for hosts without Xen only: on a
 * host where Xen runs, configuration written there would be lost to the real toolstack, so
 * there an unreachable daemon is an error, never a reason to fall back.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { XsClient } from './client.js';
import { XsOp, joinStrings } from './messages.js';
import { EmbeddedXenstored } from './server/embedded.js';
import { StateLockedError } from './server/lock.js';
import { UnixSocketTransport, XENBUS_DEVICE, XenbusDeviceTransport, defaultSocketPath } from './transport.js';

export interface OpenXenstoreOptions {
  env?: NodeJS.ProcessEnv;
  /** A socket to use instead of the libxenstore lookup (then the xenbus device is not tried). */
  socketPath?: string;
  /** Where the embedded store keeps its journal (default: see defaultStatePath). */
  statePath?: string;
  /**
   * 'daemon' (default): a live daemon, else XenstoreUnavailableError. 'auto': a live daemon;
   * without one, the embedded store where no Xen is present, XenstoreUnavailableError where Xen
   * is. 'embedded': always the persisted embedded store. 'memory': a fresh in-memory embedded
   * store of its own (for tests).
   */
  mode?: 'auto' | 'daemon' | 'embedded' | 'memory';
  /**
   * Where /proc, /sys and /dev are looked for when deciding whether this is a Xen host, and
   * where the xenbus device is (default $COLO_XL_HOST_ROOT, else /): lets a test stage a host.
   */
  hostRoot?: string;
  /** 'auto' only: told the journal's path when, no daemon answering, the embedded store is used. */
  onEmbeddedFallback?: (statePath: string) => void;
  /** How long to wait for another process to let go of the embedded store (default 10 s). */
  lockWaitMs?: number;
  timeoutMs?: number;
  /** How long a daemon gets to answer the first request (default 2 s). */
  probeTimeoutMs?: number;
}

/** One way of reaching the daemon that did not work, and why (an errno name and its words). */
export interface XenstoreAttempt {
  via: 'socket' | 'xenbus';
  path: string;
  code: string;
  reason: string;
}

/** No xenstore daemon could be reached; on a Xen host, `xen` says what showed Xen is there. */
export class XenstoreUnavailableError extends Error {
  constructor(
    readonly attempts: readonly XenstoreAttempt[],
    readonly xen?: string,
  ) {
    const tried = attempts.map((a) => `${a.via === 'socket' ? 'socket' : 'device'} ${a.path}: ${a.code} (${a.reason})`).join('; ');
    super(
      `cannot reach xenstored: ${tried}` +
        (xen ? `; Xen is present on this host (${xen}), so colo-xl will not fall back to its embedded store` : ''),
    );
    this.name = 'XenstoreUnavailableError';
  }
}

/**
 * Whether this host runs on Xen, as libxenstore and the kernel show it: the xenfs mount point,
 * the hypervisor type sysfs reports, or the xenbus device. Answers the first sign found.
 */
export function xenPresence(root = '/'): string | undefined {
  const at = (p: string): string => join(root, p);
  if (existsSync(at('/proc/xen'))) return '/proc/xen exists';
  try {
    if (readFileSync(at('/sys/hypervisor/type'), 'utf8').trim() === 'xen') return '/sys/hypervisor/type is xen';
  } catch {
    // no hypervisor, or not one sysfs names
  }
  if (existsSync(at(XENBUS_DEVICE))) return `${XENBUS_DEVICE} exists`;
  return undefined;
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

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ECONNREFUSED: 'nothing listens on it',
  ENOTSOCK: 'not a socket',
  ENODEV: 'not a character device',
  ENXIO: 'no such device',
  ECONNRESET: 'the daemon closed the connection',
};

function attempt(via: XenstoreAttempt['via'], path: string, e: unknown, probeMs: number): XenstoreAttempt {
  const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
  const reason = code === 'ETIMEDOUT' ? `no answer within ${probeMs} ms` : (REASONS[code] ?? (e as Error).message);
  return { via, path, code, reason };
}

// The first request is the probe: a daemon that accepts but never answers is no daemon.
async function connectSocket(path: string, timeoutMs: number, probeMs: number): Promise<XsClient> {
  if (!statSync(path).isSocket()) throw Object.assign(new Error(`${path} is not a socket`), { code: 'ENOTSOCK' });
  const probe = new XsClient(await UnixSocketTransport.connect(path), { timeoutMs: probeMs });
  try {
    await probe.request(XsOp.IS_DOMAIN_INTRODUCED, joinStrings(['0']), 0);
  } finally {
    await probe.close();
  }
  return new XsClient(await UnixSocketTransport.connect(path), { timeoutMs });
}

function openDevice(path: string, timeoutMs: number | undefined): XsClient {
  if (!statSync(path).isCharacterDevice()) throw Object.assign(new Error(`${path} is not a character device`), { code: 'ENODEV' });
  return new XsClient(XenbusDeviceTransport.open(path), { timeoutMs });
}

// xs_open without XS_OPEN_SOCKETONLY: the socket, then the device; every failure kept for the report
async function connectDaemon(opts: OpenXenstoreOptions, env: NodeJS.ProcessEnv, root: string): Promise<XsClient | XenstoreAttempt[]> {
  const probeMs = opts.probeTimeoutMs ?? 2000;
  const path = opts.socketPath ?? defaultSocketPath(env);
  const failed: XenstoreAttempt[] = [];
  try {
    return await connectSocket(path, opts.timeoutMs ?? 30_000, probeMs);
  } catch (e) {
    // an XsError (the probe timed out, the daemon hung up) carries its code like an errno
    failed.push(attempt('socket', path, e, probeMs));
  }
  if (opts.socketPath) return failed;
  const device = join(root, XENBUS_DEVICE);
  try {
    return openDevice(device, opts.timeoutMs);
  } catch (e) {
    failed.push(attempt('xenbus', device, e, probeMs));
  }
  return failed;
}

export async function openXenstore(opts: OpenXenstoreOptions = {}): Promise<XsClient> {
  const env = opts.env ?? process.env;
  const mode = opts.mode ?? 'daemon';
  const statePath = opts.statePath ?? defaultStatePath(env);
  if (mode === 'auto' || mode === 'daemon') {
    const root = opts.hostRoot ?? (env.COLO_XL_HOST_ROOT || '/');
    const got = await connectDaemon(opts, env, root);
    if (!Array.isArray(got)) return got;
    // On a Xen host the embedded store would hold configuration the real toolstack never sees.
    const xen = xenPresence(root);
    if (mode === 'daemon' || xen) throw new XenstoreUnavailableError(got, xen);
    opts.onEmbeddedFallback?.(statePath);
  }
  if (mode === 'memory') return new EmbeddedXenstored().client({ timeoutMs: opts.timeoutMs });
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
