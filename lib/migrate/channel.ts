/**
 * The control channel between `colo-xl migrate` and `colo-xl migrate-receive`: one JSON object per
 * line over a pair of byte streams, as xl runs `ssh <host> xl migrate-receive` and talks over the
 * ssh pipe. The source sends requests ({"op": …}) one at a time and reads one reply each
 * ({"ok": true, …} or {"ok": false, "error": …}); the destination may also send notices
 * ({"notice": …}) at any time, e.g. when its QEMU died. Disk data and memory never cross it: they
 * go over NBD and QEMU's own migration stream.
 */
import type { Readable } from 'node:stream';

export type ChannelMessage = Record<string, unknown>;

/** Splits a byte stream into JSON lines and hands each parsed object on. */
export function readJsonLines(input: Readable, onMessage: (m: ChannelMessage) => void, onEnd: (why: string) => void): void {
  let buf = '';
  let ended = false;
  const end = (why: string): void => {
    if (!ended) {
      ended = true;
      onEnd(why);
    }
  };
  input.setEncoding('utf8');
  input.on('data', (chunk: string) => {
    buf += chunk;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line === '') continue;
      let m: unknown;
      try {
        m = JSON.parse(line);
      } catch {
        // an ssh banner or a stray diagnostic on the pipe is not a protocol message
        continue;
      }
      if (typeof m === 'object' && m !== null && !Array.isArray(m)) onMessage(m as ChannelMessage);
    }
  });
  input.on('end', () => end('control channel closed by the other side'));
  input.on('close', () => end('control channel closed by the other side'));
  input.on('error', (e) => end(`control channel error: ${e.message}`));
}

/** The source's end: requests with replies, plus notices from the destination. */
export class ControlClient {
  private waiting: { resolve: (m: ChannelMessage) => void; reject: (e: Error) => void } | null = null;
  private closedWhy: string | null = null;
  private noticeHandlers: Array<(m: ChannelMessage) => void> = [];
  private closeHandlers: Array<(why: string) => void> = [];

  constructor(
    input: Readable,
    private readonly write: (line: string) => void,
  ) {
    readJsonLines(
      input,
      (m) => {
        if ('notice' in m) {
          for (const h of this.noticeHandlers) h(m);
          return;
        }
        const w = this.waiting;
        this.waiting = null;
        w?.resolve(m);
      },
      (why) => {
        this.closedWhy = why;
        const w = this.waiting;
        this.waiting = null;
        w?.reject(new Error(why));
        for (const h of this.closeHandlers) h(why);
      },
    );
  }

  get closed(): string | null {
    return this.closedWhy;
  }

  onNotice(h: (m: ChannelMessage) => void): void {
    this.noticeHandlers.push(h);
  }

  onClose(h: (why: string) => void): void {
    this.closeHandlers.push(h);
  }

  /** Sends `{op, ...body}` and returns the reply; `{ok:false}` and a lost channel throw. */
  async request(op: string, body: ChannelMessage = {}, timeoutMs = 120_000): Promise<ChannelMessage> {
    if (this.closedWhy !== null) throw new Error(this.closedWhy);
    if (this.waiting) throw new Error(`control channel: ${op} sent while a request is pending`);
    const reply = await new Promise<ChannelMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        reject(new Error(`destination gave no reply to ${op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.write(JSON.stringify({ op, ...body }) + '\n');
    });
    if (reply.ok !== true) throw new Error(`destination: ${typeof reply.error === 'string' ? reply.error : JSON.stringify(reply)}`);
    return reply;
  }
}
