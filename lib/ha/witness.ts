/**
 * A witness (a third host, e.g. the site's router or a small VM): both nodes send it their
 * heartbeats too, and a node that lost its peer asks it whether it still hears that peer. A cut
 * between the two nodes leaves the witness hearing both, so neither takes over; a dead node falls
 * silent at the witness too. Query `{"t":"ask","id":n,"about":node,"windowMs":ms}`, answer
 * `{"t":"answer","id":n,"about":node,"reachable":bool,"silentMs":ms|null}`.
 */
import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { AbortedError } from '../errors.js';
import { scopedLogger, type Logger } from '../util/log.js';
import { throwIfAborted, type WaitOptions } from '../util/wait.js';
import { bindUdp, closeUdp, type HostPort } from './heartbeat.js';

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
  private readonly log: Logger;

  constructor(opts: { logger?: Logger } = {}) {
    this.log = scopedLogger(opts.logger, 'ha witness');
  }

  /** Binds `listen` and answers from then on; `o` bounds the bind. */
  async start(listen: HostPort, o: WaitOptions = {}): Promise<void> {
    const sock = createSocket('udp4');
    sock.on('error', (e) => this.log.warn('witness socket error', { error: e.message }));
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
    try {
      await bindUdp(sock, listen, 'witness bind', o);
    } catch (e) {
      await closeUdp(sock);
      throw e;
    }
    this.sock = sock;
  }

  get port(): number {
    return this.sock?.address().port ?? 0;
  }

  async stop(): Promise<void> {
    const s = this.sock;
    this.sock = null;
    if (s) await closeUdp(s);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** How long askWitness waits for an answer when the caller gives no timeoutMs. */
export const WITNESS_TIMEOUT_MS = 500;

/**
 * Asks the witness whether it heard `about` within `windowMs`. No answer within `timeoutMs`
 * (default 500 ms) returns null: the witness being unreachable too says nothing either way, so
 * no takeover. The caller's signal gives the question up (AbortedError).
 */
export async function askWitness(witness: HostPort, about: string, windowMs: number, o: WaitOptions = {}): Promise<WitnessAnswer | null> {
  throwIfAborted(o.signal, 'witness question');
  const sock = createSocket('udp4');
  // a random id: answers to another asker (or an earlier question) on a reused port are not ours
  const id = randomInt(1, 2 ** 31);
  const timeoutMs = o.timeoutMs ?? WITNESS_TIMEOUT_MS;
  let onAbort = (): void => undefined;
  try {
    return await new Promise<WitnessAnswer | null>((resolve, reject) => {
      const timer = setTimeout(() => resolve(null), timeoutMs);
      onAbort = () => {
        clearTimeout(timer);
        reject(new AbortedError('witness question', { cause: o.signal?.reason }));
      };
      o.signal?.addEventListener('abort', onAbort, { once: true });
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
      sock.on('error', () => {
        clearTimeout(timer);
        resolve(null);
      });
      const ask: Ask = { t: 'ask', id, about, windowMs };
      sock.send(JSON.stringify(ask), witness.port, witness.host);
    });
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    sock.close();
  }
}
