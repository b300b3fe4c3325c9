import { XsOp, type Packet } from '../messages.js';
import type { ChangeEvent, Limits } from './ops.js';
import { OutputQueue } from './output-queue.js';
import type { TransactionView } from './tree.js';

export interface Watch {
  /** Absolute (or @special) path the watch covers. */
  path: string;
  /** The path as the client gave it: events are reported relative when it was relative. */
  given: string;
  /** The token's bytes as a latin1 string: echoed byte for byte, like C xenstored does. */
  token: string;
}

export interface OpenTransaction {
  view: TransactionView;
  events: ChangeEvent[];
}

/** The transport side of a connection: told when output is queued, takes it when it can. */
export interface PacketSink {
  /** Packets are waiting in the connection's queue (called on every queueing; coalesce). */
  wake(): void;
  /** The server gives up on this peer (protocol violation). */
  abort(reason: string): void;
}

/** One client of the embedded daemon: its identity, watches, open transactions and output. */
export class ServerConnection {
  private static seq = 0;
  readonly id = ++ServerConnection.seq;
  target: number | undefined;
  readonly watches: Watch[] = [];
  readonly transactions = new Map<number, OpenTransaction>();
  nextTxId = 1;
  closed = false;
  readonly out: OutputQueue;

  constructor(
    readonly sink: PacketSink,
    /** The domain this connection acts as (unix-socket clients are dom0, like C xenstored's). */
    readonly domid: number,
    private readonly limits: Limits,
  ) {
    // C xenstored applies its memory quota and event timeout to unprivileged domains only; a
    // privileged connection gets colo-xl's backlog bound instead, so a dom0 client that stops
    // reading cannot grow the daemon without limit either.
    // Read through getters: `xenstore-control quota set` changes the limits of live connections.
    const privileged = this.privileged;
    this.out = new OutputQueue({
      get maxBytes() {
        return privileged ? limits.backlog : limits.memory;
      },
      get eventTimeoutMs() {
        return privileged ? 0 : limits.watchEventTimeoutMs;
      },
    });
  }

  get privileged(): boolean {
    return this.domid === 0;
  }

  /**
   * Whether the next request may be read: domain_can_read stops an unprivileged domain at
   * quota_req_outstanding unanswered replies or at its hard memory quota; a privileged one
   * stops while its backlog is full.
   */
  get mayRead(): boolean {
    if (this.closed) return false;
    if (this.privileged) return this.limits.backlog <= 0 || this.out.bytes < this.limits.backlog;
    if (this.limits.outstanding > 0 && this.out.replies >= this.limits.outstanding) return false;
    return this.limits.memory <= 0 || this.out.bytes < this.limits.memory;
  }

  reply(p: Packet): void {
    if (this.closed) return;
    this.out.reply(p);
    this.sink.wake();
  }

  event(p: Packet, special: boolean): void {
    if (this.closed || p.type !== XsOp.WATCH_EVENT) return;
    if (this.out.event(p, special)) this.sink.wake();
  }
}
