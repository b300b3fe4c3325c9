/**
 * The heartbeat between a COLO primary and secondary: one small UDP datagram per interval each
 * way, JSON `{"t":"hb","node":…,"role":…,"seq":n}`; the peer counts as lost once `missCount`
 * intervals pass without one. QEMU's COLO design (seed 002) draws this component but leaves
 * failover to a person typing x-colo-lost-heartbeat; this is the missing piece.
 */
import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';

export interface HostPort {
  host: string;
  port: number;
}

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

export function parseHostPort(s: string, what = 'address'): HostPort {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 0 && port < 65536)) throw new Error(`${what} "${s}": expected HOST:PORT`);
  return { host: m[1]!, port };
}

export declare interface Heartbeat {
  on(ev: 'lost', cb: (l: PeerLost) => void): this;
  on(ev: 'seen', cb: (m: HeartbeatMessage) => void): this;
  on(ev: 'error', cb: (e: Error) => void): this;
}

export class Heartbeat extends EventEmitter {
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

  constructor(readonly opts: HeartbeatOptions) {
    super();
    this.intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.missCount = opts.missCount ?? DEFAULT_MISS_COUNT;
    if (!(this.intervalMs > 0) || !(this.missCount >= 1)) throw new Error('heartbeat: interval must be > 0 and miss count ≥ 1');
  }

  /** How long silence lasts before the peer counts as lost. */
  get deadlineMs(): number {
    return this.intervalMs * this.missCount;
  }

  async start(): Promise<void> {
    const sock = createSocket('udp4');
    this.sock = sock;
    sock.on('message', (buf) => this.receive(buf));
    sock.on('error', (e) => this.emit('error', e));
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(this.opts.listen.port, this.opts.listen.host, () => {
        sock.off('error', reject);
        resolve();
      });
    });
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
    this.emit('seen', m);
  }

  private check(): void {
    if (this.lostFired) return;
    const now = performance.now();
    const silentMs = now - (this.lastSeen ?? this.startedAt);
    if (silentMs > this.deadlineMs) {
      this.lostFired = true;
      const l: PeerLost = { peer: this.peerNode, silentMs, at: now };
      this.emit('lost', l);
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

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const s = this.sock;
    this.sock = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
