/**
 * A write load through QEMU's own block layer: HMP `qemu-io <dev> "aio_write -P p off 4k"`,
 * pipelined over QMP at a paced rate, each write to its own 4 KiB block with its own pattern, so
 * that any later disk content tells exactly which writes it holds. Completion ("wrote 4096/4096
 * bytes at offset N") and failure lines come on QEMU's stdout and are timed on arrival.
 */
import type { QemuProcess } from '../../lib/qemu/process.js';

export const BLOCK = 4096;

export interface WriteRecord {
  block: number;
  pattern: number;
  /** Wall-clock ms (Date.now) when sent, and when its completion arrived. */
  sentAt: number;
  ackAt?: number;
  failed?: string;
}

/** The pattern byte of block b: never 0 (the empty disk), different for neighbours. */
export const patternOf = (block: number): number => (block % 255) + 1;

/** Wall-clock ms, the clock of QEMU's trace timestamps (the monotonic clock drifts from it). */
export const wallNow = (): number => Date.now();

export interface LoadOptions {
  device?: string;
  /** Writes per second (default 600). */
  rate?: number;
  /** Blocks available (disk size / 4 KiB); the run stops when they are used up. */
  blocks: number;
  /** Outstanding HMP commands at most. */
  window?: number;
}

export class WriteLoad {
  readonly writes: WriteRecord[] = [];
  private byOffset = new Map<number, WriteRecord>();
  private running = false;
  private paused = false;
  private loop: Promise<void> | null = null;
  private buf = '';
  startedAt = 0;
  stoppedAt = 0;
  /** HMP calls that themselves failed (e.g. the QEMU died under them). */
  submitErrors = 0;

  constructor(
    readonly q: QemuProcess,
    readonly o: LoadOptions,
  ) {
    q.proc.stdout?.on('data', (b: Buffer) => this.onOutput(b.toString()));
  }

  private onOutput(s: string): void {
    this.buf += s;
    const lines = this.buf.split('\n');
    this.buf = lines.pop() ?? '';
    const at = wallNow();
    for (const l of lines) {
      let m = /^wrote 4096\/4096 bytes at offset (\d+)/.exec(l);
      if (m) {
        const w = this.byOffset.get(Number(m[1]));
        if (w && w.ackAt === undefined) w.ackAt = at;
        continue;
      }
      m = /aio_write failed: (.*)/.exec(l);
      if (m) {
        // qemu-io names no offset on failure: charge the oldest write still waiting
        const w = this.writes.find((x) => x.ackAt === undefined && !x.failed);
        if (w) w.failed = m[1];
      }
    }
  }

  start(): void {
    this.running = true;
    this.startedAt = wallNow();
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const rate = this.o.rate ?? 600;
    const window = this.o.window ?? 32;
    const dev = this.o.device ?? 'colo-disk0';
    const t0 = performance.now();
    let inflight = 0;
    for (let n = 0; this.running && n < this.o.blocks && this.q.alive; n++) {
      while (this.paused && this.running) await new Promise((r) => setTimeout(r, 1));
      if (!this.running) break;
      const w: WriteRecord = { block: n, pattern: patternOf(n), sentAt: wallNow() };
      this.writes.push(w);
      this.byOffset.set(n * 4096, w);
      inflight++;
      void this.q.qmp
        .hmp(`qemu-io ${dev} "aio_write -P ${w.pattern} ${n * BLOCK} 4k"`, { timeoutMs: 10_000 })
        .catch(() => void this.submitErrors++)
        .finally(() => inflight--);
      const wait = t0 + ((n + 1) * 1000) / rate - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      while (inflight >= window && this.running) await new Promise((r) => setTimeout(r, 1));
    }
  }

  /**
   * Stops submitting and waits until every write sent so far has completed: what vm_stop's
   * drain does to a guest's I/O before a checkpoint (monitor I/O is not drained by QEMU).
   */
  async quiesce(timeoutMs = 5000): Promise<boolean> {
    this.paused = true;
    const deadline = Date.now() + timeoutMs;
    while (this.writes.some((w) => w.ackAt === undefined && !w.failed)) {
      if (Date.now() > deadline || !this.q.alive) return false;
      await new Promise((r) => setTimeout(r, 1));
    }
    return true;
  }

  resume(): void {
    this.paused = false;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.stoppedAt = wallNow();
  }

  get acked(): number {
    return this.writes.filter((w) => w.ackAt !== undefined).length;
  }

  get failed(): number {
    return this.writes.filter((w) => w.failed).length;
  }

  /** Completed writes per second over the run. */
  get achievedRate(): number {
    const end = Math.max(...this.writes.map((w) => w.ackAt ?? 0), this.startedAt + 1);
    return this.acked / ((end - this.startedAt) / 1000);
  }
}

export interface DiskVerdict {
  ok: boolean;
  mustHave: number;
  mustNotHave: number;
  either: number;
  present: number;
  problems: string[];
}

/**
 * Checks a raw disk image against the writes: blocks in `must` hold their pattern, blocks in
 * `mustNot` are zero, the others are wholly one or the other (never torn), and every byte no
 * write touched is zero.
 */
export function verifyDisk(raw: Buffer, writes: WriteRecord[], classify: (w: WriteRecord) => 'must' | 'mustNot' | 'either'): DiskVerdict {
  const v: DiskVerdict = { ok: true, mustHave: 0, mustNotHave: 0, either: 0, present: 0, problems: [] };
  const touched = new Set<number>();
  const zero = Buffer.alloc(BLOCK);
  for (const w of writes) {
    touched.add(w.block);
    const blk = raw.subarray(w.block * BLOCK, (w.block + 1) * BLOCK);
    const full = Buffer.alloc(BLOCK, w.pattern);
    const has = blk.equals(full);
    const empty = blk.equals(zero);
    if (has) v.present++;
    const c = classify(w);
    if (c === 'must') v.mustHave++;
    else if (c === 'mustNot') v.mustNotHave++;
    else v.either++;
    if (!has && !empty) v.problems.push(`block ${w.block}: torn or foreign content`);
    else if (c === 'must' && !has) v.problems.push(`block ${w.block}: write acked before the checkpoint is missing`);
    else if (c === 'mustNot' && has) v.problems.push(`block ${w.block}: write sent after the checkpoint is present`);
  }
  for (let b = 0; b * BLOCK < raw.length; b++) {
    if (!touched.has(b) && !raw.subarray(b * BLOCK, (b + 1) * BLOCK).equals(zero)) v.problems.push(`block ${b}: written by nobody, not zero`);
  }
  v.ok = v.problems.length === 0;
  return v;
}
