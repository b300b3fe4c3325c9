/**
 * A connection's pending output, C xenstored's conn->out_list: replies and watch events the
 * peer has not taken yet, with the accounting the per-connection quotas are checked against.
 */
import { HEADER_SIZE, XsOp, type Packet } from '../messages.js';

/** What one queued packet costs beyond its bytes (object, Buffer header): a rough JS figure. */
const PACKET_OVERHEAD = 96;

export interface OutputLimits {
  /** Watch events are dropped while the queue holds this many bytes (0: never). */
  maxBytes: number;
  /** A watch event still queued this long is dropped (0: kept for ever). */
  eventTimeoutMs: number;
}

interface Entry {
  packet: Packet;
  size: number;
  /** For watch events: the payload as a key (dedup), and when it expires (0: never). */
  key?: string;
  deadline: number;
}

export class OutputQueue {
  private entries: Entry[] = [];
  private head = 0;
  /** Bytes queued (with the per-packet overhead). */
  bytes = 0;
  /** Replies queued: C's nboutstanding, counted the way the ring sees it. */
  replies = 0;
  /** Watch events dropped (duplicate of a queued one, over the byte quota, timed out). */
  dropped = 0;
  /** Queued watch events by payload, for the duplicate check. */
  private readonly pendingEvents = new Map<string, number>();
  private earliestDeadline = 0;

  constructor(
    private readonly limits: OutputLimits,
    private readonly now: () => number = Date.now,
  ) {}

  get length(): number {
    return this.entries.length - this.head;
  }

  /** A reply is never dropped (send_reply accounts it unchecked). */
  reply(p: Packet): void {
    this.push({ packet: p, size: HEADER_SIZE + p.payload.length + PACKET_OVERHEAD, deadline: 0 });
    this.replies++;
  }

  /**
   * send_event: an event identical to one still queued is dropped (except for the special
   * @-paths), as is one that would take the queue over its byte quota; when timeouts apply the
   * event carries its deadline. Returns whether it was queued.
   */
  event(p: Packet, special: boolean): boolean {
    this.expire();
    const size = HEADER_SIZE + p.payload.length + PACKET_OVERHEAD;
    const key = special ? undefined : p.payload.toString('latin1');
    if ((key !== undefined && this.pendingEvents.has(key)) || (this.limits.maxBytes > 0 && this.bytes + size > this.limits.maxBytes)) {
      this.dropped++;
      return false;
    }
    const deadline = this.limits.eventTimeoutMs > 0 ? this.now() + this.limits.eventTimeoutMs : 0;
    if (deadline && !this.earliestDeadline) this.earliestDeadline = deadline;
    if (key !== undefined) this.pendingEvents.set(key, (this.pendingEvents.get(key) ?? 0) + 1);
    this.push({ packet: p, size, key, deadline });
    return true;
  }

  /** The next packet for the peer, in order. */
  take(): Packet | undefined {
    this.expire();
    if (this.head >= this.entries.length) return undefined;
    const e = this.entries[this.head]!;
    this.entries[this.head++] = undefined as unknown as Entry;
    // Reclaim the consumed prefix once it dominates, so the array does not grow for ever.
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    this.forget(e);
    return e.packet;
  }

  clear(): void {
    this.entries = [];
    this.head = 0;
    this.bytes = 0;
    this.replies = 0;
    this.pendingEvents.clear();
    this.earliestDeadline = 0;
  }

  private push(e: Entry): void {
    this.entries.push(e);
    this.bytes += e.size;
  }

  private forget(e: Entry): void {
    this.bytes -= e.size;
    if (e.packet.type !== XsOp.WATCH_EVENT) this.replies--;
    else if (e.key !== undefined) {
      const n = (this.pendingEvents.get(e.key) ?? 1) - 1;
      if (n > 0) this.pendingEvents.set(e.key, n);
      else this.pendingEvents.delete(e.key);
    }
  }

  // check_event_timeout: events whose time is up are freed without being sent
  private expire(): void {
    if (!this.earliestDeadline) return;
    const now = this.now();
    if (now < this.earliestDeadline) return;
    const kept: Entry[] = [];
    let next = 0;
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (e.deadline && e.deadline <= now) {
        this.forget(e);
        this.dropped++;
        continue;
      }
      if (e.deadline && (!next || e.deadline < next)) next = e.deadline;
      kept.push(e);
    }
    this.entries = kept;
    this.head = 0;
    this.earliestDeadline = next;
  }
}
