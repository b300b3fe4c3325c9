import { chmodSync, existsSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Packet } from '../messages.js';
import { PacketParser } from '../parser.js';
import { serializePacket } from '../serializer.js';
import type { ServerConnection } from './connection.js';
import type { XenstoreCore } from './core.js';

/** Bytes handed to a socket before waiting for 'drain': the rest stays in the connection's queue. */
const SOCKET_HIGH_WATER = 64 * 1024;

export interface SocketServerOptions {
  /** Called when a connection had to be dropped (framing error, internal failure). */
  onDrop?(reason: string): void;
}

/** Serves a XenstoreCore on a unix socket; every socket client acts as dom0, as in C xenstored. */
export class XenstoreSocketServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(
    /** @internal */
    readonly core: XenstoreCore,
    readonly path: string,
    private readonly opts: SocketServerOptions,
  ) {
    this.server = createServer((s) => this.accept(s));
  }

  /** @internal Serves `core` on `path`; EmbeddedXenstored.listen is the public way in. */
  static async listen(core: XenstoreCore, path: string, opts: SocketServerOptions = {}): Promise<XenstoreSocketServer> {
    // A stale socket from a dead daemon would make bind fail with EADDRINUSE.
    if (existsSync(path) && lstatSync(path).isSocket()) unlinkSync(path);
    const s = new XenstoreSocketServer(core, path, opts);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.server.listen(path, () => {
        s.server.off('error', reject);
        resolve();
      });
    });
    chmodSync(path, 0o600);
    return s;
  }

  /**
   * One client. Requests are handled while the connection may read (its quotas), replies and
   * events leave while the socket's own buffer is short; a peer that stops reading therefore
   * holds at most its queue (bounded by the quotas) and one socket buffer of the daemon's memory.
   */
  private accept(sock: Socket): void {
    this.sockets.add(sock);
    const parser = new PacketParser();
    let inbox: Packet[] = [];
    let flushQueued = false;
    let pumpQueued = false;
    let conn: ServerConnection | undefined = undefined;
    const drop = (reason: string): void => {
      this.opts.onDrop?.(reason);
      if (conn) this.core.disconnect(conn);
      sock.destroy();
    };
    const flush = (): void => {
      flushQueued = false;
      const c = conn!;
      while (!sock.destroyed && sock.writableLength < SOCKET_HIGH_WATER && c.out.length) {
        const batch: Buffer[] = [];
        let size = 0;
        for (let p = c.out.take(); p; p = size < SOCKET_HIGH_WATER ? c.out.take() : undefined) {
          const b = serializePacket(p);
          batch.push(b);
          size += b.length;
        }
        sock.write(batch.length === 1 ? batch[0]! : Buffer.concat(batch, size));
      }
      // The queue shrank: requests held back by the quotas may go on (in a later turn, so a
      // peer that reads as fast as we write cannot recurse us deeper).
      if (inbox.length && c.mayRead && !pumpQueued) {
        pumpQueued = true;
        setImmediate(() => {
          pumpQueued = false;
          pump();
        });
      }
    };
    const pump = (): void => {
      const c = conn!;
      let i = 0;
      try {
        while (i < inbox.length && c.mayRead) this.core.handle(c, inbox[i++]!);
      } catch (e) {
        return drop(`internal error: ${(e as Error).stack ?? e}`);
      }
      inbox = i === inbox.length ? [] : inbox.slice(i);
      // Stop reading the socket while requests wait: the kernel then pushes back on the peer.
      if (inbox.length) sock.pause();
      else if (sock.isPaused()) sock.resume();
      // Replies to this chunk's requests leave now, in one write.
      if (c.out.length) flush();
    };
    conn = this.core.connect({
      wake: () => {
        if (flushQueued) return;
        flushQueued = true;
        queueMicrotask(flush);
      },
      abort: (reason) => drop(reason),
    });
    const c = conn;
    sock.on('data', (d: Buffer) => {
      try {
        for (const p of parser.push(d)) inbox.push(p);
      } catch (e) {
        return drop((e as Error).message);
      }
      pump();
    });
    sock.on('drain', flush);
    sock.on('error', () => undefined);
    sock.on('close', () => {
      this.sockets.delete(sock);
      this.core.disconnect(c);
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
