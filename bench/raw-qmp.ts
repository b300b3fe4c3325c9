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

/** Raw sessions on both QEMUs' control monitors for `fn`, closed after it whatever happens. */
export async function withRawPair<T>(x: { p: { controlPath: string }; s: { controlPath: string } }, fn: (p: RawQmp, s: RawQmp) => Promise<T>): Promise<T> {
  const p = await RawQmp.open(x.p.controlPath);
  try {
    const s = await RawQmp.open(x.s.controlPath);
    try {
      return await fn(p, s);
    } finally {
      s.close();
    }
  } finally {
    p.close();
  }
}

/** The secondary's side of every replication set-up, raw: an NBD server on 127.0.0.1:port exporting `device` writable. */
export async function rawNbdExport(s: RawQmp, port: number, device: string): Promise<void> {
  await s.cmd(`{"execute":"nbd-server-start","arguments":{"addr":{"type":"inet","data":{"host":"127.0.0.1","port":"${port}"}}}}`);
  await s.cmd(`{"execute":"nbd-server-add","arguments":{"device":"${device}","writable":true}}`);
}

/** One COLO run's timings (ms). */
export interface Sample {
  setup: number;
  checkpoints: number[];
  failover: number;
}

function pct(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : NaN;
}

/**
 * Runs colo-xl and the raw floor on fresh pairs, alternating which goes first each round so
 * machine load drifting during the run hurts both alike.
 */
export async function alternate<P>(
  rounds: number,
  start: () => Promise<P>,
  end: (p: P) => Promise<void>,
  ours: (p: P) => Promise<Sample>,
  raw: (p: P) => Promise<Sample>,
): Promise<{ ours: Sample[]; raw: Sample[] }> {
  const out = { ours: [] as Sample[], raw: [] as Sample[] };
  for (let i = 0; i < rounds; i++) {
    for (const which of i % 2 === 0 ? (['ours', 'raw'] as const) : (['raw', 'ours'] as const)) {
      const x = await start();
      try {
        out[which].push(await (which === 'ours' ? ours(x) : raw(x)));
      } finally {
        await end(x);
      }
    }
  }
  return out;
}

/** Prints the side-by-side table; returns its rows as [step, colo-xl ms, raw ms]. */
export function printComparison(title: string, a: Sample[], b: Sample[]): Array<[string, number, number]> {
  const rows: Array<[string, number, number]> = [
    ['set-up (median)', pct(a.map((s) => s.setup), 0.5), pct(b.map((s) => s.setup), 0.5)],
    ['checkpoint p50', pct(a.flatMap((s) => s.checkpoints), 0.5), pct(b.flatMap((s) => s.checkpoints), 0.5)],
    ['checkpoint p99', pct(a.flatMap((s) => s.checkpoints), 0.99), pct(b.flatMap((s) => s.checkpoints), 0.99)],
    ['failover (median)', pct(a.map((s) => s.failover), 0.5), pct(b.map((s) => s.failover), 0.5)],
  ];
  console.log(title);
  console.log(`${'step'.padEnd(20)} ${'colo-xl ms'.padStart(11)} ${'raw ms'.padStart(9)} ${'ratio'.padStart(7)} ${'overhead ms'.padStart(12)}`);
  for (const [name, x, y] of rows) {
    console.log(`${name.padEnd(20)} ${x.toFixed(2).padStart(11)} ${y.toFixed(2).padStart(9)} ${(x / y).toFixed(2).padStart(7)} ${(x - y).toFixed(2).padStart(12)}`);
  }
  return rows;
}
