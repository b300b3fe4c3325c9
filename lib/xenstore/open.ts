/**
 * How every colo-xl command reaches xenstore: the daemon (the socket libxenstore would use, then
 * the xenbus device), or the embedded store persisted under $XDG_STATE_HOME/colo-xl/ (or
 * ~/.local/state/colo-xl/). The embedded store is a stand-in for hosts without Xen only: on a
 * host where Xen runs, configuration written there would be lost to the real toolstack, so
 * there an unreachable daemon is an error, never a reason to fall back.
 */
import { ColoXlError, InvalidArgumentError, WaitTimeoutError } from '../errors.js';
import { scopedLogger, silentLogger, type Logger } from '../util/log.js';
import { XsClient, type ClientOptions } from './client.js';
import { XsError, XsOp, joinStrings } from './messages.js';
import { UnixSocketTransport, XENBUS_DEVICE, XenbusDeviceTransport, defaultSocketPath } from './transport.js';

// Through getBuiltinModule, as in transport.ts: an imported builtin costs the entry point its ESM wrapper.
const { existsSync, readFileSync, statSync } = process.getBuiltinModule('node:fs');
const { homedir } = process.getBuiltinModule('node:os');
const { join } = process.getBuiltinModule('node:path');

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
  /**
   * The owner of the embedded stores, needed by 'auto', 'embedded' and 'memory': an
   * `EmbeddedStores` from `colo-xl/xenstored`, created by the program (one a process, say).
   * Clients opened through the same one share one store per journal and see each other's
   * watches. The wire client never loads the embedded daemon's code on its own.
   */
  stores?: EmbeddedStoreProvider;
  /** Where the client (and the choice of store) is logged; scoped `xenstore <path>`. */
  logger?: Logger;
}

/** What openXenstore asks of the owner of the embedded stores (EmbeddedStores implements it). */
export interface EmbeddedStoreProvider {
  /** A client of the store persisted at `statePath`, opened (or waited for) when no client has it. */
  client(statePath: string, opts: ClientOptions & { lockWaitMs?: number }): Promise<XsClient>;
  /** A client of a fresh in-memory store of its own, closed with the client. */
  memory(opts: ClientOptions): XsClient;
}

/** One way of reaching the daemon that did not work, and why (an errno name and its words). */
export interface XenstoreAttempt {
  via: 'socket' | 'xenbus';
  path: string;
  code: string;
  reason: string;
}

/** No xenstore daemon could be reached; on a Xen host, `xen` says what showed Xen is there. */
export class XenstoreUnavailableError extends ColoXlError {
  constructor(
    readonly attempts: readonly XenstoreAttempt[],
    readonly xen?: string,
  ) {
    const tried = attempts.map((a) => `${a.via === 'socket' ? 'socket' : 'device'} ${a.path}: ${a.code} (${a.reason})`).join('; ');
    super(
      'XS_UNAVAILABLE',
      `cannot reach xenstored: ${tried}` +
        (xen ? `; Xen is present on this host (${xen}), so colo-xl will not fall back to its embedded store` : ''),
    );
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

/** What one way of reaching the daemon ran into, as an errno name (an XsError's, or ETIMEDOUT). */
function attempt(via: XenstoreAttempt['via'], path: string, e: unknown, probeMs: number): XenstoreAttempt {
  const code = e instanceof WaitTimeoutError ? 'ETIMEDOUT' : e instanceof XsError ? e.errnoName : ((e as NodeJS.ErrnoException).code ?? 'EIO');
  const reason = code === 'ETIMEDOUT' ? `no answer within ${probeMs} ms` : (REASONS[code] ?? (e as Error).message);
  return { via, path, code, reason };
}

/**
 * The socket, probed by a first request on the connection the client then keeps: a daemon that
 * accepts but never answers is no daemon. A failed probe closes the connection.
 */
async function connectSocket(path: string, timeoutMs: number, probeMs: number, logger: Logger | undefined): Promise<XsClient | XenstoreAttempt> {
  if (!statSync(path).isSocket()) return { via: 'socket', path, code: 'ENOTSOCK', reason: REASONS.ENOTSOCK! };
  const client = new XsClient(await UnixSocketTransport.connect(path), { timeoutMs, logger });
  try {
    await client.request(XsOp.IS_DOMAIN_INTRODUCED, joinStrings(['0']), 0, undefined, { timeoutMs: probeMs });
    return client;
  } catch (e) {
    await client.close();
    throw e;
  }
}

function openDevice(path: string, timeoutMs: number | undefined, logger: Logger | undefined): XsClient | XenstoreAttempt {
  if (!statSync(path).isCharacterDevice()) return { via: 'xenbus', path, code: 'ENODEV', reason: REASONS.ENODEV! };
  return new XsClient(XenbusDeviceTransport.open(path), { timeoutMs, logger });
}

// xs_open without XS_OPEN_SOCKETONLY: the socket, then the device; every failure kept for the report
async function connectDaemon(opts: OpenXenstoreOptions, env: NodeJS.ProcessEnv, root: string): Promise<XsClient | XenstoreAttempt[]> {
  const probeMs = opts.probeTimeoutMs ?? 2000;
  const path = opts.socketPath ?? defaultSocketPath(env);
  const failed: XenstoreAttempt[] = [];
  try {
    const got = await connectSocket(path, opts.timeoutMs ?? 30_000, probeMs, opts.logger);
    if (got instanceof XsClient) return got;
    failed.push(got);
  } catch (e) {
    failed.push(attempt('socket', path, e, probeMs));
  }
  if (opts.socketPath) return failed;
  const device = join(root, XENBUS_DEVICE);
  try {
    const got = openDevice(device, opts.timeoutMs, opts.logger);
    if (got instanceof XsClient) return got;
    failed.push(got);
  } catch (e) {
    failed.push(attempt('xenbus', device, e, probeMs));
  }
  return failed;
}

/**
 * A client of the daemon or of an embedded store, as `mode` says (see OpenXenstoreOptions).
 */
export async function openXenstore(opts: OpenXenstoreOptions = {}): Promise<XsClient> {
  const env = opts.env ?? process.env;
  const mode = opts.mode ?? 'daemon';
  const statePath = opts.statePath ?? defaultStatePath(env);
  const log = opts.logger ? scopedLogger(opts.logger, 'xenstore') : silentLogger;
  const stores = opts.stores;
  if (mode !== 'daemon' && !stores) throw new InvalidArgumentError(`openXenstore mode '${mode}' needs opts.stores (an EmbeddedStores from colo-xl/xenstored)`);
  if (mode === 'auto' || mode === 'daemon') {
    const root = opts.hostRoot ?? (env.COLO_XL_HOST_ROOT || '/');
    const got = await connectDaemon(opts, env, root);
    if (!Array.isArray(got)) return got;
    // On a Xen host the embedded store would hold configuration the real toolstack never sees.
    const xen = xenPresence(root);
    if (mode === 'daemon' || xen) throw new XenstoreUnavailableError(got, xen);
    log.info('no xenstored; using the embedded store', { statePath, attempts: got });
    opts.onEmbeddedFallback?.(statePath);
  }
  const clientOpts = { timeoutMs: opts.timeoutMs, logger: opts.logger };
  if (mode === 'memory') return stores!.memory(clientOpts);
  return stores!.client(statePath, { ...clientOpts, lockWaitMs: opts.lockWaitMs ?? 10_000 });
}
