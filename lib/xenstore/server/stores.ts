/**
 * The owner of the embedded stores a program opens through openXenstore: one EmbeddedXenstored
 * per journal file, shared by the clients opened through this owner (so they see each other's
 * watches), and let go, with its lock, when the last of them closes. A program makes one (the CLI
 * one a run, a management daemon one for its life) and passes it as `openXenstore({ stores })`.
 * @module
 */
import type { Logger } from '../../util/log.js';
import { sleep } from '../../util/wait.js';
import type { ClientOptions, XsClient } from '../client.js';
import type { EmbeddedStoreProvider } from '../open.js';
import { EmbeddedXenstored } from './embedded.js';
import { StateLockedError } from './lock.js';

interface Lease {
  store: EmbeddedXenstored;
  clients: number;
}

export class EmbeddedStores implements EmbeddedStoreProvider {
  /** A promise, so that clients asked for while the lock is awaited share the one store. */
  private readonly leases = new Map<string, Promise<Lease>>();

  constructor(private readonly opts: { logger?: Logger } = {}) {}

  async client(statePath: string, opts: ClientOptions & { lockWaitMs?: number } = {}): Promise<XsClient> {
    let pending = this.leases.get(statePath);
    if (!pending) {
      pending = this.open(statePath, opts.lockWaitMs ?? 10_000);
      this.leases.set(statePath, pending);
      pending.catch(() => this.leases.delete(statePath));
    }
    const lease = await pending;
    lease.clients++;
    const { lockWaitMs: _unused, ...clientOpts } = opts;
    return lease.store.client({
      ...clientOpts,
      onClose: async () => {
        await opts.onClose?.();
        if (--lease.clients > 0) return;
        this.leases.delete(statePath);
        await lease.store.close();
      },
    });
  }

  memory(opts: ClientOptions = {}): XsClient {
    const store = new EmbeddedXenstored({ logger: this.opts.logger });
    return store.client({
      ...opts,
      onClose: async () => {
        await opts.onClose?.();
        await store.close();
      },
    });
  }

  /** Another process works on the store: wait for it, like a client waits for a daemon. */
  private async open(statePath: string, waitMs: number): Promise<Lease> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        return { store: new EmbeddedXenstored({ statePath, logger: this.opts.logger }), clients: 0 };
      } catch (e) {
        if (!(e instanceof StateLockedError) || Date.now() > deadline) throw e;
        await sleep(25);
      }
    }
  }

  /** Closes every store still open (their clients then see ECONNRESET). */
  async close(): Promise<void> {
    const all = await Promise.allSettled([...this.leases.values()]);
    this.leases.clear();
    for (const r of all) if (r.status === 'fulfilled') await r.value.store.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
