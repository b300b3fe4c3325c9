/**
 * A xenstore client that is domain N to Xen's real C xenstored: its requests travel through the
 * domain's shared ring (under the xs-nohv-shim stand-ins) instead of the unix socket, whose
 * connections the daemon always treats as dom0. So the daemon checks them with N's permissions,
 * and errors come back as XsError codes (EACCES, ENOENT, ...) exactly as for a socket client.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XsClient } from '../../lib/xenstore/client.js';
import type { EmbeddedXenstored } from '../../lib/xenstore/server/embedded.js';
import type { Packet } from '../../lib/xenstore/messages.js';
import { PacketParser } from '../../lib/xenstore/parser.js';
import { serializePacket } from '../../lib/xenstore/serializer.js';
import { UnixSocketTransport, type TransportHandlers, type XsTransport } from '../../lib/xenstore/transport.js';
import { buildC } from './build-c.js';
import type { DomainRing, RealXenstored } from './real-xenstored.js';
import { requireFile } from './require-tool.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Builds test/support/xen-shims/xs-ring-client.c (cached by content) and returns the binary. */
export function buildRingClient(): string {
  requireFile('/usr/include/xen/io/xs_wire.h', 'libxen-dev');
  return buildC({ name: 'xs-ring-client', sources: [join(here, 'xen-shims', 'xs-ring-client.c')], args: ['-Wall'] });
}

/** Packets go to xs-ring-client's stdin; what the daemon answers in the ring comes out of its stdout. */
class RingTransport implements XsTransport {
  readonly kind = 'ring';
  private handlers: TransportHandlers | undefined;
  private readonly parser = new PacketParser();
  private ended = false;
  private stderr = '';
  private readonly exited: Promise<void>;
  private readonly onExit = (): void => void this.child.kill('SIGKILL');

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    process.once('exit', this.onExit);
    child.stdout.on('data', (d: Buffer) => {
      try {
        for (const p of this.parser.push(d)) this.handlers?.packet(p);
      } catch (e) {
        this.finish(e as Error);
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    child.once('exit', (code, signal) => {
      process.off('exit', this.onExit);
      this.finish(code === 0 ? undefined : new Error(`xs-ring-client ended (${code ?? signal}): ${this.stderr}`));
    });
    child.stdin.on('error', () => undefined);
  }

  attach(h: TransportHandlers): void {
    this.handlers = h;
  }

  send(p: Packet): void {
    if (!this.ended) this.child.stdin.write(serializePacket(p));
  }

  private finish(err?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.handlers?.closed(err);
  }

  async close(): Promise<void> {
    this.ended = true;
    // End of stdin lets the bridge finish writing what it holds and exit; kill it if it hangs.
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** A client speaking as `ring.domid` through its ring. */
export function guestClient(ring: DomainRing, opts: { timeoutMs?: number } = {}): XsClient {
  const child = spawn(buildRingClient(), [ring.ringPath, ring.evtchnPath, String(ring.port)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return new XsClient(new RingTransport(child), { timeoutMs: opts.timeoutMs ?? 5000 });
}

/** INTRODUCEs `domid` to the real daemon and returns a client acting as that domain. */
export async function openGuestXenstore(server: RealXenstored, domid: number): Promise<XsClient> {
  return guestClient(await server.introduceDomain(domid));
}

/** dom0 and guest `domid`, as clients of C xenstored and of an embedded colo-xl xenstored. */
export interface GuestPairs {
  theirs: [dom0: XsClient, guest: XsClient];
  ours: [dom0: XsClient, guest: XsClient];
  close(): Promise<void>;
}

/**
 * Connects dom0 and guest `domid` to both daemons (the guest introduced to the embedded one; the
 * C daemon's guest goes through its ring), for the guest differential sessions.
 */
export async function openGuestPairs(real: RealXenstored, embedded: EmbeddedXenstored, domid: number): Promise<GuestPairs> {
  const clients: XsClient[] = [];
  try {
    clients.push(new XsClient(await UnixSocketTransport.connect(real.socketPath), { timeoutMs: 5000 }));
    clients.push(await openGuestXenstore(real, domid));
    const ourDom0 = embedded.client();
    clients.push(ourDom0);
    await ourDom0.introduce(domid, 1, 1);
    clients.push(embedded.client({ domid }));
  } catch (e) {
    await Promise.all(clients.map((x) => x.close()));
    throw e;
  }
  const [a, b, c, d] = clients as [XsClient, XsClient, XsClient, XsClient];
  return { theirs: [a, b], ours: [c, d], close: async () => void (await Promise.all(clients.map((x) => x.close()))) };
}
