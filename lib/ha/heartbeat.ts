/**
 * The heartbeat between a COLO primary and secondary: one small UDP datagram per interval each
 * way, JSON `{"t":"hb","node":…,"role":…,"seq":n}`; the peer counts as lost once `missCount`
 * intervals pass without one. QEMU's COLO design (seed 002) draws this component but leaves
 * failover to a person typing x-colo-lost-heartbeat; this is the missing piece.
 */
import { createSocket, type Socket } from 'node:dgram';
import { InvalidArgumentError } from '../errors.js';
import type { HostPort } from '../util/host-port.js';
import { scopedLogger, type Logger } from '../util/log.js';
import { Subscribers } from '../util/subscribers.js';
import { bounded, type WaitOptions } from '../util/wait.js';

export type { HostPort } from '../util/host-port.js';

export interface HeartbeatOptions {
  /** This node's name: the peer's fence command and the witness see it. */
  node: string;
  role: 'primary' | 'secondary';
  listen: HostPort;
  peer: HostPort;
  /** Also sent to a witness, which then can tell whether this node is alive. */
  witness?: HostPort;
  intervalMs?: number;
  missCount?: number;
  /** Diagnostics (socket errors, the loss as it is declared); scoped `ha <node>`. */
  logger?: Logger;
}

export const DEFAULT_INTERVAL_MS = 50;
export const DEFAULT_MISS_COUNT = 3;

export interface HeartbeatMessage {
  t: 'hb';
  node: string;
  role: string;
  seq: number;
}

export interface PeerLost {
  peer: string | null;
  /** Since the last datagram from the peer (or since start when none came). */
  silentMs: number;
  /** performance.now() when the loss was declared. */
  at: number;
}

/** Binds `sock` to `at`, or rejects with the bind error (EADDRINUSE...); bounded by `o`. */
export function bindUdp(sock: Socket, at: HostPort, what: string, o: WaitOptions = {}): Promise<void> {
  return bounded(what, o, (signal) => new Promise<void>((resolve, reject) => {
    const fail = (e: Error): void => {
      signal.removeEventListener('abort', abort);
      reject(e);
    };
    const abort = (): void => void sock.off('error', fail);
    signal.addEventListener('abort', abort, { once: true });
    sock.once('error', fail);
    sock.bind(at.port, at.host, () => {
      sock.off('error', fail);
      signal.removeEventListener('abort', abort);
      resolve();
    });
  }));
}

/** Closes a UDP socket and resolves once it is closed. */
export function closeUdp(sock: Socket): Promise<void> {
  return new Promise<void>((r) => sock.close(() => r()));
}

export class Heartbeat {
  readonly intervalMs: number;
  readonly missCount: number;
  peerNode: string | null = null;
  lastSeen: number | null = null;
  seq = 0;
  private sock: Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private sending = true;
  private cutLink = false;
  private lostFired = false;
  private readonly lost = new Subscribers<PeerLost>();
  private readonly seen = new Subscribers<HeartbeatMessage>();
  private readonly log: Logger;

  constructor(readonly opts: HeartbeatOptions) {
    this.intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.missCount = opts.missCount ?? DEFAULT_MISS_COUNT;
    if (!(this.intervalMs > 0) || !(this.missCount >= 1)) throw new InvalidArgumentError('heartbeat: interval must be > 0 and miss count ≥ 1');
    this.log = scopedLogger(opts.logger, `ha ${opts.node}`);
  }

  /** Calls `cb` each time the peer counts as lost (again after it was seen again); returns the unsubscriber. */
  onLost(cb: (l: PeerLost) => void): () => void {
    return this.lost.add(cb);
  }

  /** Calls `cb` with each heartbeat from the peer; returns the unsubscriber. */
  onSeen(cb: (m: HeartbeatMessage) => void): () => void {
    return this.seen.add(cb);
  }

  /** How long silence lasts before the peer counts as lost. */
  get deadlineMs(): number {
    return this.intervalMs * this.missCount;
  }

  /** Binds the listen address and starts beating; `o` bounds the bind. */
  async start(o: WaitOptions = {}): Promise<void> {
    const sock = createSocket('udp4');
    sock.on('message', (buf) => this.receive(buf));
    // a datagram that cannot be sent (no route, ICMP refusal) is no reason to stop beating
    sock.on('error', (e) => this.log.warn('heartbeat socket error', { error: e.message }));
    try {
      await bindUdp(sock, this.opts.listen, 'heartbeat bind', o);
    } catch (e) {
      await closeUdp(sock);
      throw e;
    }
    this.sock = sock;
    this.startedAt = performance.now();
    // the check runs more often than the beat so that detection lags the deadline by little
    const tick = Math.max(5, Math.floor(this.intervalMs / 5));
    let sinceBeat = this.intervalMs;
    this.timer = setInterval(() => {
      sinceBeat += tick;
      if (sinceBeat >= this.intervalMs) {
        sinceBeat = 0;
        this.beat();
      }
      this.check();
    }, tick);
  }

  get port(): number {
    return this.sock?.address().port ?? 0;
  }

  private beat(): void {
    if (!this.sending || !this.sock) return;
    const msg: HeartbeatMessage = { t: 'hb', node: this.opts.node, role: this.opts.role, seq: ++this.seq };
    const buf = Buffer.from(JSON.stringify(msg));
    if (!this.cutLink) this.sock.send(buf, this.opts.peer.port, this.opts.peer.host);
    // the witness link is another path: a cut between the two nodes leaves it up
    if (this.opts.witness) this.sock.send(buf, this.opts.witness.port, this.opts.witness.host);
  }

  private receive(buf: Buffer): void {
    if (this.cutLink) return;
    let m: HeartbeatMessage;
    try {
      m = JSON.parse(buf.toString()) as HeartbeatMessage;
    } catch {
      return;
    }
    if (m.t !== 'hb' || typeof m.node !== 'string') return;
    this.peerNode = m.node;
    this.lastSeen = performance.now();
    this.lostFired = false;
    this.seen.emit(m);
  }

  private check(): void {
    if (this.lostFired) return;
    const now = performance.now();
    const silentMs = now - (this.lastSeen ?? this.startedAt);
    if (silentMs > this.deadlineMs) {
      this.lostFired = true;
      const l: PeerLost = { peer: this.peerNode, silentMs, at: now };
      this.log.info('peer lost', { peer: l.peer, silentMs });
      this.lost.emit(l);
    }
  }

  /** Stops sending (e.g. the local QEMU died: the peer must not think this side still serves). */
  mute(): void {
    this.sending = false;
  }

  /** A cut link, for tests and drills: datagrams to and from the peer are dropped both ways. */
  cut(on = true): void {
    this.cutLink = on;
  }

  /** Stops beating and closes the socket; the subscriptions are dropped. Idempotent. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.lost.clear();
    this.seen.clear();
    const s = this.sock;
    this.sock = null;
    if (s) await closeUdp(s);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
