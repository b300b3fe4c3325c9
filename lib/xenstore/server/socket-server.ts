import { chmodSync, existsSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Packet } from '../messages.js';
import { PacketParser } from '../parser.js';
import { serializePacket, serializePackets } from '../serializer.js';
import type { ServerConnection } from './connection.js';
import type { XenstoreCore } from './core.js';

export interface SocketServerOptions {
  /** Called when a connection had to be dropped (framing error, internal failure). */
  onDrop?(reason: string): void;
}

/** Serves a XenstoreCore on a unix socket; every socket client acts as dom0, as in C xenstored. */
export class XenstoreSocketServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly core: XenstoreCore,
    readonly path: string,
    private readonly opts: SocketServerOptions,
  ) {
    this.server = createServer((s) => this.accept(s));
  }

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

  private accept(sock: Socket): void {
    this.sockets.add(sock);
    const parser = new PacketParser();
    let out: Packet[] = [];
    let conn: ServerConnection | undefined = undefined;
    const flush = (): void => {
      const batch = out;
      out = [];
      if (batch.length && !sock.destroyed) sock.write(batch.length === 1 ? serializePacket(batch[0]!) : serializePackets(batch));
    };
    const drop = (reason: string): void => {
      this.opts.onDrop?.(reason);
      if (conn) this.core.disconnect(conn);
      sock.destroy();
    };
    conn = this.core.connect({
      send: (p) => {
        out.push(p);
        if (out.length === 1) queueMicrotask(flush);
      },
      abort: (reason) => drop(reason),
    });
    const c = conn;
    sock.on('data', (d: Buffer) => {
      let packets: Packet[];
      try {
        packets = parser.push(d);
      } catch (e) {
        return drop((e as Error).message);
      }
      for (const p of packets) {
        try {
          this.core.handle(c, p);
        } catch (e) {
          return drop(`internal error: ${(e as Error).stack ?? e}`);
        }
      }
      // Replies to this chunk's requests leave now, in one write.
      flush();
    });
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
}
