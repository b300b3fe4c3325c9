import type { Packet } from '../messages.js';
import type { ChangeEvent } from './ops.js';
import type { TransactionView } from './tree.js';

export interface Watch {
  /** Absolute (or @special) path the watch covers. */
  path: string;
  /** The path as the client gave it: events are reported relative when it was relative. */
  given: string;
  token: string;
}

export interface OpenTransaction {
  view: TransactionView;
  events: ChangeEvent[];
}

/** Where a connection's replies and watch events go. */
export interface PacketSink {
  send(p: Packet): void;
  /** The server gives up on this peer (protocol violation). */
  abort(reason: string): void;
}

/** One client of the embedded daemon: its identity, watches and open transactions. */
export class ServerConnection {
  private static seq = 0;
  readonly id = ++ServerConnection.seq;
  target: number | undefined;
  readonly watches: Watch[] = [];
  readonly transactions = new Map<number, OpenTransaction>();
  nextTxId = 1;
  closed = false;

  constructor(
    readonly sink: PacketSink,
    /** The domain this connection acts as (unix-socket clients are dom0, like C xenstored's). */
    public domid: number,
  ) {}

  get privileged(): boolean {
    return this.domid === 0;
  }
}
