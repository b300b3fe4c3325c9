/**
 * A scripted QMP server on a temp unix socket (or loopback TCP), for the client's unit tests:
 * each test decides byte by byte what the "QEMU" says and when, hostile peers included (lines of
 * any length streamed without holding them, a close in the middle of a message).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { duplexPair, type Duplex } from 'node:stream';
import type { QMPClient } from '../../lib/qmp/client.js';
import type { ConnectOptions } from '../../lib/qmp/protocol.js';

export type Msg = Record<string, unknown>;

export const GREETING: Msg = {
  QMP: { version: { qemu: { micro: 9, minor: 2, major: 7 }, package: 'Debian 1:7.2+dfsg-7' }, capabilities: ['oob'] },
};

export function event(name: string, data?: Msg): Msg {
  return { event: name, data: data ?? {}, timestamp: { seconds: 1, microseconds: 2 } };
}

/** One accepted connection (a socket, or one end of an in-memory pair): read what the client sent, write anything back. */
export class FakeConn {
  private buf = '';
  private queue: Msg[] = [];
  private waiters: Array<(m: Msg) => void> = [];
  constructor(readonly sock: Duplex) {
    sock.on('data', (b) => {
      this.buf += b.toString();
      const lines = this.buf.split('\n');
      this.buf = lines.pop() ?? '';
      for (const l of lines.filter((x) => x.trim() !== '')) {
        const m = JSON.parse(l) as Msg;
        const w = this.waiters.shift();
        if (w) w(m);
        else this.queue.push(m);
      }
    });
    sock.on('error', () => undefined);
  }
  next(): Promise<Msg> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    return new Promise((r) => this.waiters.push(r));
  }
  send(...msgs: Msg[]): void {
    this.sock.write(msgs.map((m) => JSON.stringify(m) + '\r\n').join(''));
  }
  raw(text: string): void {
    this.sock.write(text);
  }
  /** Writes `text` and closes the write side: the client reads it, then EOF. */
  endWith(text: string): void {
    this.sock.end(text);
  }
  /** Whether the client has hung up (or the connection is otherwise gone). */
  get closed(): boolean {
    return this.sock.destroyed || !this.sock.writable;
  }
  /**
   * Writes `prefix`, then `fillBytes` bytes of "x" in `chunkBytes` pieces (waiting for the socket
   * to drain, so the server never holds the whole of it), then `suffix`; stops early when the
   * client hangs up. Returns how many bytes it handed to the socket.
   */
  async stream(prefix: string, fillBytes: number, suffix = '', chunkBytes = 1 << 20): Promise<number> {
    const chunk = Buffer.alloc(chunkBytes, 'x');
    let written = 0;
    const write = async (b: Buffer | string): Promise<boolean> => {
      if (this.closed) return false;
      written += Buffer.byteLength(b);
      if (this.sock.write(b)) return true;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.sock.off('drain', done);
          this.sock.off('close', done);
          resolve();
        };
        this.sock.on('drain', done);
        this.sock.on('close', done);
      });
      return !this.closed;
    };
    if (!(await write(prefix))) return written;
    for (let left = fillBytes; left > 0; left -= chunkBytes) {
      if (!(await write(left >= chunkBytes ? chunk : chunk.subarray(0, left)))) return written;
    }
    if (suffix !== '') await write(suffix);
    return written;
  }
  /** Greeting (QEMU's unless given), then answers qmp_capabilities. */
  async handshake(greeting: Msg = GREETING): Promise<void> {
    this.send(greeting);
    const caps = await this.next();
    this.send({ return: {}, id: caps.id });
  }
  /** Answers the next command with `ret`, returning what the client sent. */
  async reply(ret: unknown = {}): Promise<Msg> {
    const m = await this.next();
    this.send({ return: ret, id: m.id });
    return m;
  }
  close(): void {
    this.sock.destroy();
  }
}

/**
 * An in-memory connection: the client's end to inject (`connect(name, { stream })`) and the
 * fake QEMU's, with no socket at all.
 */
export function memoryPair(): { clientEnd: Duplex; conn: FakeConn } {
  const [clientEnd, serverEnd] = duplexPair();
  return { clientEnd, conn: new FakeConn(serverEnd) };
}

/** Connects `client` to `server`, lets the fake QEMU greet and negotiate, and returns its end. */
export async function connectedConn(server: FakeQmpServer, client: QMPClient, opts: ConnectOptions = {}): Promise<FakeConn> {
  const conn = server.accept();
  const done = client.connect(server.path, opts);
  const c = await conn;
  await c.handshake();
  await done;
  return c;
}

export class FakeQmpServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'colo-xl-fakeqmp-'));
  readonly path = join(this.dir, 'qmp.sock');
  private server: Server;
  private conns: FakeConn[] = [];
  private waiters: Array<(c: FakeConn) => void> = [];
  port = 0;

  private constructor() {
    this.server = createServer((sock) => {
      const c = new FakeConn(sock);
      this.conns.push(c);
      const w = this.waiters.shift();
      if (w) w(c);
    });
  }

  static async unix(): Promise<FakeQmpServer> {
    const s = new FakeQmpServer();
    await new Promise<void>((r) => s.server.listen(s.path, r));
    return s;
  }

  /** Listens on `path` (in a directory the caller owns) instead of a fresh temp one. */
  static async unixAt(path: string): Promise<FakeQmpServer> {
    const s = new FakeQmpServer();
    await new Promise<void>((r) => s.server.listen(path, r));
    return s;
  }

  static async tcp(): Promise<FakeQmpServer> {
    const s = new FakeQmpServer();
    await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r));
    const a = s.server.address();
    s.port = typeof a === 'object' && a ? a.port : 0;
    return s;
  }

  /** The next connection (already accepted or still to come). */
  accept(): Promise<FakeConn> {
    return new Promise((r) => {
      const pending = this.conns.find((c) => !this.handed.has(c));
      if (pending) {
        this.handed.add(pending);
        r(pending);
      } else {
        this.waiters.push((c) => {
          this.handed.add(c);
          r(c);
        });
      }
    });
  }
  private handed = new Set<FakeConn>();

  async close(): Promise<void> {
    for (const c of this.conns) c.close();
    await new Promise<void>((r) => this.server.close(() => r()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
