import type { Packet } from '../messages.js';
import type { TransportHandlers, XsTransport } from '../transport.js';
import type { ServerConnection } from './connection.js';
import type { XenstoreCore } from './core.js';

/**
 * A client transport straight into an embedded XenstoreCore in this process: packets are handed
 * over as objects (no bytes), asynchronously, so callers see the same ordering as on a socket.
 * Requests wait, as they would in a ring, while the connection's quotas forbid reading them.
 */
export class InProcessTransport implements XsTransport {
  readonly kind = 'embedded';
  private handlers: TransportHandlers | undefined;
  private readonly conn: ServerConnection;
  private inbox: Packet[] = [];
  private processQueued = false;
  private deliverQueued = false;
  private ended = false;

  constructor(
    private readonly core: XenstoreCore,
    domid = 0,
  ) {
    this.conn = core.connect(
      {
        wake: () => {
          if (this.deliverQueued) return;
          this.deliverQueued = true;
          queueMicrotask(() => this.deliver());
        },
        abort: () => this.end(),
      },
      domid,
    );
  }

  attach(h: TransportHandlers): void {
    this.handlers = h;
  }

  send(p: Packet): void {
    if (this.ended) return;
    this.inbox.push(p);
    this.scheduleProcess();
  }

  private scheduleProcess(): void {
    if (this.processQueued) return;
    this.processQueued = true;
    queueMicrotask(() => this.process());
  }

  private process(): void {
    this.processQueued = false;
    let i = 0;
    while (i < this.inbox.length && !this.ended && this.conn.mayRead) this.core.handle(this.conn, this.inbox[i++]!);
    this.inbox = i === this.inbox.length ? [] : this.inbox.slice(i);
  }

  private deliver(): void {
    this.deliverQueued = false;
    for (let p = this.conn.out.take(); p; p = this.conn.out.take()) this.handlers?.packet(p);
    // Replies taken: requests the outstanding quota held back may be read now.
    if (this.inbox.length && !this.ended) this.scheduleProcess();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.handlers?.closed();
  }

  async close(): Promise<void> {
    this.core.disconnect(this.conn);
    this.end();
  }
}
