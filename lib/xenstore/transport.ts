import type { Socket } from 'node:net';
import { sleep } from '../util/wait.js';
import { XsOp, type Packet } from './messages.js';
import { PacketParser } from './parser.js';
import { serializePacket, serializePackets } from './serializer.js';

// Builtins come through process.getBuiltinModule, not `import`: Node 20 builds an ES module
// wrapper per imported builtin (node:fs's pulls in fs/promises), which alone cost the client's
// entry point ~10 ms of its 15 ms budget; node:net is taken only when a socket is opened.
const { once } = process.getBuiltinModule('node:events');
const { closeSync, openSync, read: fsRead, write: fsWrite } = process.getBuiltinModule('node:fs');
const { join } = process.getBuiltinModule('node:path');

export interface TransportHandlers {
  packet(p: Packet): void;
  /** The peer went away (or the stream broke); `err` says why when it was not a clean close. */
  closed(err?: Error): void;
}

/** Moves whole packets to and from a xenstore daemon; the client does the rest. */
export interface XsTransport {
  readonly kind: string;
  /** The socket or device it reaches, for log lines (none for an in-process store). */
  readonly path?: string;
  attach(h: TransportHandlers): void;
  send(p: Packet): void;
  close(): Promise<void>;
}

/** libxenstore's choice of socket: $XENSTORED_PATH, else $XENSTORED_RUNDIR/socket, else the default. */
export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XENSTORED_PATH) return env.XENSTORED_PATH;
  return join(env.XENSTORED_RUNDIR || '/var/run/xenstored', 'socket');
}

export const XENBUS_DEVICE = '/dev/xen/xenbus';

/** A connected unix socket; packets sent in the same tick leave in one write. */
export class UnixSocketTransport implements XsTransport {
  readonly kind = 'socket';
  private handlers: TransportHandlers | undefined;
  private readonly parser = new PacketParser();
  private queue: Packet[] = [];
  private ended = false;

  private constructor(
    private readonly sock: Socket,
    readonly path: string,
  ) {
    sock.setNoDelay?.(true);
    sock.on('data', (d: Buffer) => {
      let ps: Packet[];
      try {
        ps = this.parser.push(d);
      } catch (e) {
        this.finish(e as Error);
        sock.destroy();
        return;
      }
      for (const p of ps) this.handlers?.packet(p);
    });
    sock.on('error', (e) => this.finish(e));
    sock.on('close', () => this.finish());
  }

  static async connect(path: string): Promise<UnixSocketTransport> {
    // A non-blocking connect to a unix socket whose (small) backlog is full fails with EAGAIN
    // where libxenstore's blocking connect would just wait: so wait, a little, too.
    for (let attempt = 0; ; attempt++) {
      const sock = process.getBuiltinModule('node:net').connect(path);
      try {
        await once(sock, 'connect');
        return new UnixSocketTransport(sock, path);
      } catch (e) {
        sock.destroy();
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || attempt >= 50) throw e;
        await sleep(2 + attempt * 2);
      }
    }
  }

  attach(h: TransportHandlers): void {
    this.handlers = h;
  }

  send(p: Packet): void {
    if (this.ended) return;
    this.queue.push(p);
    if (this.queue.length === 1) queueMicrotask(() => this.flush());
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    if (this.ended || batch.length === 0) return;
    this.sock.write(batch.length === 1 ? serializePacket(batch[0]!) : serializePackets(batch));
  }

  private finish(err?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.handlers?.closed(err);
  }

  async close(): Promise<void> {
    this.flush();
    this.ended = true;
    if (this.sock.destroyed) return;
    const closed = once(this.sock, 'close');
    this.sock.end();
    this.sock.destroySoon();
    await closed;
  }
}

/**
 * The xenbus character device of a Xen guest or dom0 kernel. The kernel wants each request in
 * one write(2) and hands back whole replies. Reads block a libuv worker thread (a character
 * device cannot join the event loop), so close() first provokes one last reply to let the
 * pending read return before the fd goes away.
 */
export class XenbusDeviceTransport implements XsTransport {
  readonly kind = 'xenbus';
  private handlers: TransportHandlers | undefined;
  private readonly parser = new PacketParser();
  private state: 'open' | 'closing' | 'closed' = 'open';
  private writing: Promise<void> = Promise.resolve();
  private readDone: () => void = () => undefined;
  private readonly reading: Promise<void>;

  private constructor(
    private readonly fd: number,
    readonly path: string,
  ) {
    this.reading = new Promise((resolve) => (this.readDone = resolve));
    this.readLoop();
  }

  static open(path = XENBUS_DEVICE): XenbusDeviceTransport {
    return new XenbusDeviceTransport(openSync(path, 'r+'), path);
  }

  attach(h: TransportHandlers): void {
    this.handlers = h;
  }

  private readLoop(): void {
    const buf = Buffer.alloc(65536);
    const next = (): void => {
      if (this.state !== 'open') return this.readDone();
      fsRead(this.fd, buf, 0, buf.length, null, (err, n) => {
        if (this.state !== 'open') return this.readDone();
        if (err || n === 0) {
          this.readDone();
          return this.fail(err ?? undefined);
        }
        try {
          for (const p of this.parser.push(Buffer.from(buf.subarray(0, n)))) {
            if (p.reqId !== WAKE_REQ_ID) this.handlers?.packet(p);
          }
        } catch (e) {
          this.readDone();
          return this.fail(e as Error);
        }
        next();
      });
    };
    next();
  }

  send(p: Packet): void {
    if (this.state !== 'open') return;
    this.writeRaw(serializePacket(p));
  }

  private writeRaw(bytes: Buffer): void {
    this.writing = this.writing.then(
      () =>
        new Promise<void>((resolve) => {
          fsWrite(this.fd, bytes, 0, bytes.length, null, (err) => {
            if (err) this.fail(err);
            resolve();
          });
        }),
    );
  }

  private fail(err?: Error): void {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    if (wasOpen) this.handlers?.closed(err);
    closeSync(this.fd);
  }

  async close(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'closing';
    // Any request gets a reply; its arrival ends the blocked read.
    this.writeRaw(serializePacket({ type: XsOp.GET_DOMAIN_PATH, reqId: WAKE_REQ_ID, txId: 0, payload: Buffer.from('0\0') }));
    await this.writing;
    await Promise.race([this.reading, new Promise((r) => setTimeout(r, 1000).unref())]);
    this.state = 'closed';
    closeSync(this.fd);
  }
}

/** req_id of close()'s wake-up request; the client never issues it (it wraps earlier). */
const WAKE_REQ_ID = 0xffffffff;
