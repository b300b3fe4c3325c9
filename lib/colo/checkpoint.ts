/**
 * Exact detection of QEMU-native COLO checkpoints, from the QMP events QEMU 7.2 already sends.
 *
 * QEMU has no event named for a checkpoint, and query-migrate shows no counter in the "colo"
 * state (migration.c:fill_source_migration_info fills nothing for it), but every checkpoint
 * stops and restarts the VM on both sides, and vm_stop/vm_start send STOP and RESUME:
 * - primary, colo.c:colo_do_checkpoint_transaction: STOP once the secondary's checkpoint-reply
 *   is in (before vmstate-send), RESUME right after the secondary's vmstate-loaded;
 * - secondary, colo.c:colo_incoming_process_checkpoint: STOP on checkpoint-request, RESUME after
 *   replication_do_checkpoint_all (its disk view is the new checkpoint), before vmstate-loaded.
 * Entering COLO is a RESUME as well (colo.c:colo_process_checkpoint and
 * colo_process_incoming_thread: replication_start_all, then vm_start, under the same lock), and
 * it matters: until then the primary's replication filter drops writes (block/replication.c:
 * replication_get_io_status says -EIO for stage NONE, which replication_return_value turns
 * into success), so a write made then never reaches the secondary, whatever checkpoints follow.
 * After a failover QEMU restarts a primary that stopped for a checkpoint which never completed
 * (migration.c:migration_iteration_finish), but only after COLO_EXIT; the watch stops counting
 * at COLO_EXIT, so that RESUME is not taken for a checkpoint.
 *
 * Events are read through the listener's filter, which the client calls synchronously as it
 * reads each message: the watch's state is exactly the event stream up to the last message
 * read, so "a STOP seen after the reply to a command" means "QEMU stopped after it ran the command".
 */
import type { QMPClient } from '../qmp/client.js';
import type { EventListener } from '../qmp/events.js';
import type { QmpEvent } from '../qmp/message.js';
import type { WaitOptions } from '../util/wait.js';
import { ColoError, type ColoSide } from './errors.js';

export interface Checkpoint {
  /** 1, 2, … in the order this watch saw them complete. */
  n: number;
  /** Ordinal of the STOP that began it, among the STOPs this watch saw (see mark()). */
  stop: number;
  /** QEMU's wall clock (ms since the epoch) at the STOP and at the RESUME. */
  stoppedAt: number;
  resumedAt: number;
}

export type CheckpointFailure = 'timeout' | 'aborted' | 'colo-exit' | 'disconnected';

/** A wait for a checkpoint (or for COLO entry) that did not end with one: code COLO_CHECKPOINT_<FAILURE>. */
export class CheckpointError extends ColoError {
  constructor(
    side: ColoSide,
    readonly failure: CheckpointFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(side, 'checkpoint', message, { ...options, code: `COLO_CHECKPOINT_${failure.toUpperCase().replace('-', '_')}` });
  }
}

/** What the watch believes the VM is doing, from the events so far. */
type Phase = 'running' | 'checkpoint' | 'entering' | 'ended';

const eventMs = (e: QmpEvent): number => e.timestamp.seconds * 1000 + e.timestamp.microseconds / 1000;

export class CheckpointWatch {
  private phase: Phase = 'running';
  private stops = 0;
  private stoppedAt = 0;
  private count = 0;
  private lastCheckpoint: Checkpoint | null = null;
  private exitEvent: QmpEvent | null = null;
  private closed = false;
  private readonly wakers = new Set<() => void>();
  private readonly listener: EventListener;

  /**
   * Watches `q` from now on. A watch made while COLO already runs (a CLI step on a running pair)
   * counts from the next whole STOP/RESUME pair; one made before `migrate` should be armed
   * with expectEntry().
   */
  constructor(
    private readonly q: Pick<QMPClient, 'listen' | 'removeListener'>,
    readonly side: ColoSide,
  ) {
    this.listener = q.listen(['STOP', 'RESUME', 'COLO_EXIT'], (e) => {
      this.observe(e);
      return false;
    });
    // nothing is ever queued (the filter says no), so this resolves only when the client closes
    void this.listener.next().then(() => {
      this.closed = true;
      this.wake();
    });
  }

  private observe(e: QmpEvent): void {
    if (e.event === 'COLO_EXIT') {
      this.exitEvent = e;
      this.phase = 'ended';
    } else if (e.event === 'STOP') {
      // the STOP of migration completion (a primary that was running) is not a checkpoint
      if (this.phase === 'running') {
        this.phase = 'checkpoint';
        this.stops++;
        this.stoppedAt = eventMs(e);
      }
    } else if (this.phase === 'entering') {
      this.phase = 'running';
    } else if (this.phase === 'checkpoint') {
      this.phase = 'running';
      this.count++;
      this.lastCheckpoint = { n: this.count, stop: this.stops, stoppedAt: this.stoppedAt, resumedAt: eventMs(e) };
    }
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.wakers]) w();
  }

  /** Checkpoints completed since the watch began. */
  get completed(): number {
    return this.count;
  }

  get last(): Checkpoint | null {
    return this.lastCheckpoint;
  }

  /** COLO_EXIT, once seen. */
  get exit(): QmpEvent | null {
    return this.exitEvent;
  }

  /** Whether COLO is running as far as the events tell (entered, not exited). */
  get inColo(): boolean {
    return this.phase === 'running' || this.phase === 'checkpoint';
  }

  /** STOPs seen so far: a checkpoint with `stop` above a mark began after the mark was taken. */
  mark(): number {
    return this.stops;
  }

  /** Call before `migrate`: the next RESUME is COLO entry, and an earlier COLO_EXIT is forgotten. */
  expectEntry(): void {
    this.phase = 'entering';
    this.exitEvent = null;
  }

  /** Resolves once COLO entry (replication started, VM resumed) has been seen. */
  async entered(o: WaitOptions = {}): Promise<void> {
    await this.until('COLO entry', () => (this.phase === 'running' || this.phase === 'checkpoint' ? true : undefined), o);
  }

  /** Resolves with the first completed checkpoint whose STOP came after `mark`. */
  async after(mark: number, o: WaitOptions = {}): Promise<Checkpoint> {
    return await this.until(`a checkpoint begun after STOP #${mark}`, () => (this.lastCheckpoint && this.lastCheckpoint.stop > mark ? this.lastCheckpoint : undefined), o);
  }

  /** Resolves once `n` checkpoints have completed in all. */
  async reach(n: number, o: WaitOptions = {}): Promise<Checkpoint> {
    return await this.until(`checkpoint ${n}`, () => (this.count >= n && this.lastCheckpoint ? this.lastCheckpoint : undefined), o);
  }

  /** Resolves with the latest checkpoint once more than `since` (a `completed` value) are done. */
  async nextCompleted(since: number, o: WaitOptions = {}): Promise<Checkpoint> {
    return await this.until(`checkpoint ${since + 1}`, () => (this.count > since && this.lastCheckpoint ? this.lastCheckpoint : undefined), o);
  }

  /**
   * The one wait: re-tests `ready` after every event until it gives a value, and fails on
   * COLO_EXIT, a closed connection, the timeout or the signal.
   */
  private async until<T>(what: string, ready: () => T | undefined, o: WaitOptions): Promise<T> {
    const t0 = performance.now();
    for (;;) {
      const v = ready();
      if (v !== undefined) return v;
      if (this.phase === 'ended') {
        throw new CheckpointError(this.side, 'colo-exit', `COLO ended (COLO_EXIT ${JSON.stringify(this.exitEvent?.data ?? {})}) while waiting for ${what}`);
      }
      if (this.closed) throw new CheckpointError(this.side, 'disconnected', `QMP connection closed while waiting for ${what}`);
      if (o.signal?.aborted) throw new CheckpointError(this.side, 'aborted', `aborted while waiting for ${what}`, { cause: o.signal.reason });
      const left = o.timeoutMs === undefined ? undefined : o.timeoutMs - (performance.now() - t0);
      if (left !== undefined && left <= 0) throw new CheckpointError(this.side, 'timeout', `no ${what} within ${o.timeoutMs} ms`);
      await this.changed(left, o.signal);
    }
  }

  /** Resolves at the next event, close, abort or after `ms`; the caller re-tests. */
  private changed(ms: number | undefined, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.wakers.delete(done);
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      this.wakers.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Stops watching (the QMP connection stays open). */
  dispose(): void {
    this.q.removeListener(this.listener);
  }
}
