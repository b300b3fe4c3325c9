/**
 * A witness (a third host, e.g. the site's router or a small VM): both nodes send it their
 * heartbeats too, and a node that lost its peer asks it whether it still hears that peer. A cut
 * between the two nodes leaves the witness hearing both, so neither takes over; a dead node falls
 * silent at the witness too. Query `{"t":"ask","id":n,"about":node,"windowMs":ms}`, answer
 * `{"t":"answer","id":n,"about":node,"reachable":bool,"silentMs":ms|null}`.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { HostPort } from './heartbeat.js';

interface Ask {
  t: 'ask';
  id: number;
  about: string;
  windowMs: number;
}

export interface WitnessAnswer {
  t: 'answer';
  id: number;
  about: string;
  reachable: boolean;
  silentMs: number | null;
}

export class WitnessServer {
  readonly seen = new Map<string, number>();
  private sock: Socket | null = null;

  async start(listen: HostPort): Promise<void> {
    const sock = createSocket('udp4');
    this.sock = sock;
    sock.on('message', (buf, rinfo) => {
      let m: { t?: string; node?: string; id?: number; about?: string; windowMs?: number };
      try {
        m = JSON.parse(buf.toString()) as typeof m;
      } catch {
        return;
      }
      if (m.t === 'hb' && typeof m.node === 'string') this.seen.set(m.node, performance.now());
      else if (m.t === 'ask' && typeof m.about === 'string' && typeof m.id === 'number') {
        const last = this.seen.get(m.about);
        const silentMs = last === undefined ? null : performance.now() - last;
        const a: WitnessAnswer = { t: 'answer', id: m.id, about: m.about, reachable: silentMs !== null && silentMs <= (m.windowMs ?? 0), silentMs };
        sock.send(JSON.stringify(a), rinfo.port, rinfo.address);
      }
    });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(listen.port, listen.host, () => resolve());
    });
  }

  get port(): number {
    return this.sock?.address().port ?? 0;
  }

  async stop(): Promise<void> {
    const s = this.sock;
    this.sock = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

let nextId = 1;

/**
 * Asks the witness whether it heard `about` within `windowMs`. No answer within `timeoutMs`
 * returns null: the witness being unreachable too says nothing either way, so no takeover.
 */
export async function askWitness(witness: HostPort, about: string, windowMs: number, timeoutMs = 500): Promise<WitnessAnswer | null> {
  const sock = createSocket('udp4');
  const id = nextId++;
  try {
    return await new Promise<WitnessAnswer | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), timeoutMs);
      sock.on('message', (buf) => {
        try {
          const a = JSON.parse(buf.toString()) as WitnessAnswer;
          if (a.t === 'answer' && a.id === id) {
            clearTimeout(timer);
            resolve(a);
          }
        } catch {
          /* not ours */
        }
      });
      sock.on('error', () => resolve(null));
      const ask: Ask = { t: 'ask', id, about, windowMs };
      sock.send(JSON.stringify(ask), witness.port, witness.host);
    });
  } finally {
    sock.close();
  }
}
