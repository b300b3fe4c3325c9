/**
 * Automatic failover on one COLO node: the heartbeat says the peer is gone, the split-brain
 * guard (fence command, else witness) agrees, and the QEMU-native COLO failover of this side
 * runs — the secondary takes over, the primary drops its replication and serves unprotected.
 * A node whose own QEMU dies falls silent, so that its peer is the one to act.
 */
import { CheckpointWatch } from '../colo/checkpoint.js';
import type { QemuNativeColo } from '../colo/native.js';
import type { QMPClient } from '../qmp/client.js';
import { Runstate } from '../qmp/protocol.js';
import { scopedLogger, type Logger } from '../util/log.js';
import { Subscribers } from '../util/subscribers.js';
import { bounded, type WaitOptions } from '../util/wait.js';
import { runFenceCmd } from './fence.js';
import { Heartbeat, type HeartbeatOptions, type PeerLost } from './heartbeat.js';
import { askWitness } from './witness.js';

export interface HaAgentOptions extends HeartbeatOptions {
  /** Run before a takeover with the peer's identity; its failure blocks the takeover. */
  fenceCmd?: string;
  fenceTimeoutMs?: number;
  /** This side's QEMU (watched: its death mutes the heartbeat). */
  local: QMPClient;
  /** The COLO steps, holding only this side's QMP connection. */
  colo: QemuNativeColo;
}

/** How the takeover was allowed: a fence command, the witness, or nothing (no guard set). */
export type HaGuard = 'fence' | 'witness' | 'unguarded';

export interface HaReport {
  event: 'failover' | 'blocked' | 'local-lost' | 'error';
  role: 'primary' | 'secondary';
  node: string;
  peer: string | null;
  /** Peer silence when the loss was declared. */
  silentMs?: number;
  guard?: HaGuard;
  guardMs?: number;
  /** The COLO failover steps themselves. */
  failoverMs?: number;
  /** performance.now() of the loss declaration and of the end of the failover. */
  detectedAt?: number;
  doneAt?: number;
  /**
   * Checkpoints this node's QEMU completed (primary) or loaded (secondary) while the agent ran,
   * and QEMU's wall clock (ms) at the end of the last one: what the survivor's disk reflects.
   */
  checkpoints?: number;
  lastCheckpointAt?: number;
  reason: string;
}

export class HaAgent {
  readonly heartbeat: Heartbeat;
  /** The exact checkpoint detector on the local QEMU (both roles stop and resume for each). */
  readonly checkpoints: CheckpointWatch;
  readonly reports: HaReport[] = [];
  /** The first outcome: a failover, a blocked takeover, or the loss of the local QEMU. */
  readonly outcome: Promise<HaReport>;
  private settle!: (r: HaReport) => void;
  private acting = false;
  private stopping = false;
  private readonly reportSubs = new Subscribers<HaReport>();
  /** What start() subscribed to, undone by stop(). */
  private readonly unsubscribe: Array<() => void> = [];
  /** Aborted by stop(): a fence command, witness question or failover under way gives up. */
  private readonly life = new AbortController();
  private readonly log: Logger;

  constructor(readonly opts: HaAgentOptions) {
    this.log = scopedLogger(opts.logger, `ha ${opts.node}`);
    this.heartbeat = new Heartbeat(opts);
    this.checkpoints = new CheckpointWatch(opts.local, opts.role);
    this.outcome = new Promise((r) => (this.settle = r));
  }

  /**
   * Calls `cb` with every report (the failover decisions, as they are made; `outcome` is only
   * the first); returns the unsubscriber.
   */
  onReport(cb: (r: HaReport) => void): () => void {
    return this.reportSubs.add(cb);
  }

  /** Watches the local QEMU and starts the heartbeat; `o` bounds the heartbeat's bind. */
  async start(o: WaitOptions = {}): Promise<void> {
    this.unsubscribe.push(
      this.opts.local.onRunstate((s) => {
        if (s !== Runstate.IDLE || this.stopping) return;
        this.heartbeat.mute();
        this.report({ event: 'local-lost', reason: 'the local QEMU is gone (QMP closed): heartbeat muted, the peer takes over' });
      }),
      this.heartbeat.onLost((l) => void this.onLost(l)),
    );
    await this.heartbeat.start(o);
  }

  /**
   * start(), then the first outcome, then stop(): the agent's whole life for a caller that wants
   * one answer. The caller's signal or timeoutMs ends the wait (AbortedError / WaitTimeoutError)
   * and the agent is stopped all the same.
   */
  async run(o: WaitOptions = {}): Promise<HaReport> {
    try {
      await this.start(o);
      return await bounded(`HA agent ${this.opts.node}`, o, () => this.outcome);
    } finally {
      await this.stop();
    }
  }

  private report(r: Omit<HaReport, 'role' | 'node' | 'peer'>): HaReport {
    const last = this.checkpoints.last;
    const full: HaReport = {
      role: this.opts.role,
      node: this.opts.node,
      peer: this.heartbeat.peerNode,
      ...r,
      checkpoints: this.checkpoints.completed,
      ...(last ? { lastCheckpointAt: last.resumedAt } : {}),
    };
    this.reports.push(full);
    this.log.info(formatHaReport(full), { event: full.event });
    this.reportSubs.emit(full);
    this.settle(full);
    return full;
  }

  /** Whether the takeover may go ahead, and which guard said so. */
  private async guard(peer: string, hb: Heartbeat): Promise<{ ok: boolean; guard: HaGuard; why: string }> {
    if (this.opts.fenceCmd) {
      const f = await runFenceCmd(this.opts.fenceCmd, peer, this.opts.peer, { signal: this.life.signal, timeoutMs: this.opts.fenceTimeoutMs });
      return { ok: f.ok, guard: 'fence', why: f.ok ? `fence command fenced ${peer}` : `fence command failed (exit ${f.code ?? 'timeout'})${f.output ? `: ${f.output}` : ''}` };
    }
    if (this.opts.witness) {
      const a = await askWitness(this.opts.witness, peer, hb.deadlineMs, { signal: this.life.signal });
      if (!a) return { ok: false, guard: 'witness', why: 'the witness did not answer' };
      return a.reachable
        ? { ok: false, guard: 'witness', why: `the witness still hears ${peer} (${a.silentMs?.toFixed(0)} ms ago): a cut link, not a dead peer` }
        : { ok: true, guard: 'witness', why: `the witness confirms ${peer} is unreachable` };
    }
    return { ok: true, guard: 'unguarded', why: 'no fence command and no witness: taking over unguarded' };
  }

  private async onLost(l: PeerLost): Promise<void> {
    if (this.acting || this.stopping || this.opts.local.runstate !== Runstate.RUNNING) return;
    this.acting = true;
    const peer = l.peer ?? 'peer';
    const g0 = performance.now();
    try {
      const g = await this.guard(peer, this.heartbeat);
      const guardMs = performance.now() - g0;
      if (!g.ok) {
        this.report({ event: 'blocked', silentMs: l.silentMs, guard: g.guard, guardMs, detectedAt: l.at, reason: g.why });
        return;
      }
      const t = performance.now();
      const o = { signal: this.life.signal };
      if (this.opts.role === 'secondary') await this.opts.colo.failoverSecondary(o);
      else await this.opts.colo.failoverPrimary(o);
      const doneAt = performance.now();
      this.heartbeat.mute();
      const what = this.opts.role === 'secondary' ? 'secondary took over as primary' : 'primary dropped replication and serves unprotected';
      this.report({ event: 'failover', silentMs: l.silentMs, guard: g.guard, guardMs, failoverMs: doneAt - t, detectedAt: l.at, doneAt, reason: `${what} (${g.why})` });
    } catch (e) {
      // stop() gave the failover up: not an outcome of the agent's own
      if (this.stopping) return;
      this.report({ event: 'error', silentMs: l.silentMs, detectedAt: l.at, reason: (e as Error).message });
    } finally {
      this.acting = false;
    }
  }

  /** Stops watching and beating; what it started ends, the QMP connection stays the caller's. Idempotent. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.life.abort();
    for (const u of this.unsubscribe.splice(0)) u();
    this.reportSubs.clear();
    this.checkpoints.dispose();
    await this.heartbeat.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** One line for people. */
export function formatHaReport(r: HaReport): string {
  const ms = (x?: number) => (x === undefined ? '' : `${x.toFixed(1)} ms`);
  switch (r.event) {
    case 'failover':
      return (
        `${r.role} ${r.node}: failover done: peer ${r.peer ?? '?'} silent ${ms(r.silentMs)}, guard ${r.guard} ${ms(r.guardMs)}, COLO failover ${ms(r.failoverMs)}` +
        `, ${r.checkpoints ?? 0} checkpoint(s) seen: ${r.reason}`
      );
    case 'blocked':
      return `${r.role} ${r.node}: takeover blocked after peer ${r.peer ?? '?'} silent ${ms(r.silentMs)}: ${r.reason}`;
    default:
      return `${r.role} ${r.node}: ${r.event}: ${r.reason}`;
  }
}
