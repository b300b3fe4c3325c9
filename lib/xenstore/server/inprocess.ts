import type { Packet } from '../messages.js';
import type { TransportHandlers, XsTransport } from '../transport.js';
import type { ServerConnection } from './connection.js';
import type { XenstoreCore } from './core.js';

/**
 * A client transport straight into an embedded XenstoreCore in this process: packets are handed
 * over as objects (no bytes), asynchronously, so callers see the same ordering as on a socket.
 */
export class InProcessTransport implements XsTransport {
  readonly kind = 'embedded';
  private handlers: TransportHandlers | undefined;
  private readonly conn: ServerConnection;
  private inbox: Packet[] = [];
  private outbox: Packet[] = [];
  private ended = false;

  constructor(
    private readonly core: XenstoreCore,
    domid = 0,
  ) {
    this.conn = core.connect(
      {
        send: (p) => {
          this.outbox.push(p);
          if (this.outbox.length === 1) queueMicrotask(() => this.deliver());
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
    if (this.inbox.length === 1) queueMicrotask(() => this.process());
  }

  private process(): void {
    const batch = this.inbox;
    this.inbox = [];
    for (const p of batch) if (!this.ended) this.core.handle(this.conn, p);
  }

  private deliver(): void {
    const batch = this.outbox;
    this.outbox = [];
    for (const p of batch) this.handlers?.packet(p);
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
