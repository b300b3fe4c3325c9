/**
 * The floor for the COLO benchmarks: the same QMP steps as a minimal raw script would send them,
 * one socket, one JSON line out, lines read until the reply; no ids, no checks.
 */
import { createConnection, type Socket } from 'node:net';

export class RawQmp {
  private buf = '';
  private wake: (() => void) | null = null;
  private constructor(private readonly sock: Socket) {
    sock.on('data', (b) => {
      this.buf += b.toString();
      this.wake?.();
    });
  }
  static async open(path: string): Promise<RawQmp> {
    const s = await new Promise<Socket>((res, rej) => {
      const c = createConnection({ path }, () => res(c));
      c.once('error', rej);
    });
    const r = new RawQmp(s);
    await r.line(); // greeting
    await r.cmd('{"execute":"qmp_capabilities"}');
    return r;
  }
  private async line(): Promise<string> {
    for (;;) {
      const i = this.buf.indexOf('\n');
      if (i >= 0) {
        const l = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        return l;
      }
      await new Promise<void>((r) => (this.wake = r));
    }
  }
  async cmd(json: string): Promise<string> {
    this.sock.write(json + '\n');
    for (;;) {
      const l = await this.line();
      if (!l.startsWith('{"event"') && !l.startsWith('{"timestamp"')) return l;
    }
  }
  close(): void {
    this.sock.destroy();
  }
}

