/**
 * The embedded xenstored: a XenstoreCore, optionally durable (a journal under a pid lock),
 * reachable by in-process clients and over Unix sockets, in the manner of C xenstored's main().
 * @module
 */
import { scopedLogger, silentLogger, type Logger } from '../../util/log.js';
import type { PidLock } from '../../util/pid-lock.js';
import { XsClient, type ClientOptions } from '../client.js';
import { XenstoreCore, type CoreOptions } from './core.js';
import { InProcessTransport } from './inprocess.js';
import { StateLock } from './lock.js';
import { FileJournal } from './persist.js';
import { XenstoreSocketServer } from './socket-server.js';

export interface EmbeddedOptions extends Omit<CoreOptions, 'store' | 'journal'> {
  /** Journal file; without it the store lives in memory only. */
  statePath?: string;
  /** Where the daemon reports dropped connections and what it serves; scoped `xenstored <path>`. */
  logger?: Logger;
}

/** The embedded xenstored: a core, optionally durable, reachable in-process or over a socket. */
export class EmbeddedXenstored {
  /** @internal The daemon's engine, for colo-xl's own servers and tests. */
  readonly core: XenstoreCore;
  /** @internal */
  readonly journal: FileJournal | undefined;
  private readonly lock: PidLock | undefined;
  private readonly log: Logger;
  private servers: XenstoreSocketServer[] = [];

  /** With a statePath, takes its lock first (StateLockedError if another process has it). */
  constructor(opts: EmbeddedOptions = {}) {
    this.log = opts.logger ? scopedLogger(opts.logger, `xenstored ${opts.statePath ?? 'memory'}`) : silentLogger;
    if (opts.statePath) {
      this.lock = StateLock.acquire(opts.statePath);
      try {
        this.journal = FileJournal.open(opts.statePath);
      } catch (e) {
        this.lock.release();
        throw e;
      }
    }
    this.core = new XenstoreCore({ ...opts, store: this.journal?.store, journal: this.journal });
  }

  /** A client whose connection acts as `domid` (0, the default, is privileged). */
  client(opts: ClientOptions & { domid?: number } = {}): XsClient {
    return new XsClient(new InProcessTransport(this.core, opts.domid ?? 0), opts);
  }

  async listen(socketPath: string): Promise<XenstoreSocketServer> {
    const s = await XenstoreSocketServer.listen(this.core, socketPath, {
      onDrop: (reason) => this.log.warn('connection dropped', { socket: socketPath, reason }),
    });
    this.servers.push(s);
    this.log.info('listening', { socket: socketPath });
    return s;
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.close()));
    this.servers = [];
    this.journal?.close();
    this.lock?.release();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
