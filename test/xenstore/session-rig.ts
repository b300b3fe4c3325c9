/**
 * Two raw-protocol connections to one xenstored whose whole packet streams form a transcript:
 * the differential sessions run the same steps against C xenstored and colo-xl's and compare.
 */
import { connect, type Socket } from 'node:net';
import { XsOp, joinStrings, opName } from '../../lib/xenstore/messages.js';
import { PacketParser } from '../../lib/xenstore/parser.js';
import { serializePacket } from '../../lib/xenstore/serializer.js';

/** The reqId of the round trip that fences events; its packets stay out of the transcript. */
const BARRIER = 0x7fffffff;

interface Conn {
  s: Socket;
  log: string[];
  lastReply: string;
  waiting: (() => void) | undefined;
}

export interface TwoConnectionSession {
  /** Sends one request on connection k (0 = A, 1 = B) and resolves with its reply line. */
  send(k: 0 | 1, type: number, payload: Buffer, txId?: number): Promise<string>;
  /** Every packet both connections saw, A's then B's, requests marked with `>`. */
  transcript(): string[];
  close(): Promise<void>;
}

/** Request payloads as the sessions write them: a WRITE is "path\0value", others NUL-joined. */
export const payloadOf = (type: number, args: string[]): Buffer =>
  type === XsOp.WRITE ? Buffer.from(`${args[0]}\0${args[1] ?? ''}`) : joinStrings(args);

export async function openSession(socket: string): Promise<TwoConnectionSession> {
  const conns: Conn[] = await Promise.all(
    [0, 1].map(async () => {
      const s = connect(socket);
      await new Promise((r) => s.once('connect', r));
      const parser = new PacketParser();
      const conn: Conn = { s, log: [], lastReply: '', waiting: undefined };
      s.on('data', (d: Buffer) => {
        for (const p of parser.push(d)) {
          let text = p.payload.toString('latin1').replace(/\0/g, '|');
          // Node generations are each daemon's own counter.
          if (p.type === XsOp.DIRECTORY_PART) text = text.replace(/^\d+/, 'GEN');
          const line = `${opName(p.type)} ${p.reqId} ${text}`;
          if (p.reqId !== BARRIER) conn.log.push(line);
          if (p.type !== XsOp.WATCH_EVENT) {
            conn.lastReply = line;
            conn.waiting?.();
          }
        }
      });
      return conn;
    }),
  );
  let reqId = 0;
  const send = async (k: 0 | 1, type: number, payload: Buffer, txId = 0): Promise<string> => {
    const c = conns[k]!;
    const replied = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no reply to ${opName(type)} ${reqId}`)), 5000);
      c.waiting = () => {
        clearTimeout(t);
        c.waiting = undefined;
        resolve();
      };
    });
    // Requests are part of the transcript, so a difference shows what led to it.
    c.log.push(`> ${opName(type)} ${++reqId} tx${txId} ${payload.toString('latin1').replace(/\0/g, '|')}`);
    c.s.write(serializePacket({ type, reqId, txId, payload }));
    await replied;
    const reply = c.lastReply;
    // Events this op caused on the other connection sit in its queue ahead of a reply to a
    // request sent now: one round trip there fixes where they fall in the transcript.
    const o = conns[1 - k]!;
    await new Promise<void>((resolve) => {
      o.waiting = () => {
        o.waiting = undefined;
        resolve();
      };
      o.s.write(serializePacket({ type: XsOp.GET_DOMAIN_PATH, reqId: BARRIER, txId: 0, payload: joinStrings(['0']) }));
    });
    return reply;
  };
  return {
    send,
    transcript: () => conns.flatMap((c, k) => c.log.map((l) => `${'AB'[k]} ${l}`)),
    close: async () => {
      // Let trailing events land before the sockets go.
      await new Promise((r) => setTimeout(r, 20));
      for (const c of conns) c.s.destroy();
    },
  };
}

/** The transaction id in a TRANSACTION_START reply line (0 if it was an error). */
export const txIdOf = (reply: string): number => Number(reply.split(' ')[2]!.replace('|', '')) || 0;
