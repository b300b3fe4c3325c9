/**
 * Automatic failover on one COLO node: the heartbeat says the peer is gone, the split-brain
 * guard (fence command, else witness) agrees, and the QEMU-native COLO failover of this side
 * runs — the secondary takes over, the primary drops its replication and serves unprotected.
 * A node whose own QEMU dies falls silent, so that its peer is the one to act.
 */
import { EventEmitter } from 'node:events';
import { CheckpointWatch } from '../colo/checkpoint.js';
import type { QemuNativeColo } from '../colo/native.js';
import type { QMPClient } from '../qmp/client.js';
import { Runstate } from '../qmp/protocol.js';
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

export declare interface HaAgent {
  on(ev: 'report', cb: (r: HaReport) => void): this;
}

export class HaAgent extends EventEmitter {
  readonly heartbeat: Heartbeat;
  /** The exact checkpoint detector on the local QEMU (both roles stop and resume for each). */
  readonly checkpoints: CheckpointWatch;
  readonly reports: HaReport[] = [];
  /** The first outcome: a failover, a blocked takeover, or the loss of the local QEMU. */
  readonly outcome: Promise<HaReport>;
  private settle!: (r: HaReport) => void;
  private acting = false;
  private stopping = false;

  constructor(readonly opts: HaAgentOptions) {
    super();
    this.heartbeat = new Heartbeat(opts);
    this.checkpoints = new CheckpointWatch(opts.local, opts.role);
    this.outcome = new Promise((r) => (this.settle = r));
  }

  async start(): Promise<void> {
    this.opts.local.onRunstate((s) => {
      if (s !== Runstate.IDLE || this.stopping) return;
      this.heartbeat.mute();
      this.report({ event: 'local-lost', reason: 'the local QEMU is gone (QMP closed): heartbeat muted, the peer takes over' });
    });
    this.heartbeat.on('lost', (l) => void this.onLost(l));
    await this.heartbeat.start();
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
    this.emit('report', full);
    this.settle(full);
    return full;
  }

  /** Whether the takeover may go ahead, and which guard said so. */
  private async guard(peer: string, hb: Heartbeat): Promise<{ ok: boolean; guard: HaGuard; why: string }> {
    if (this.opts.fenceCmd) {
      const f = await runFenceCmd(this.opts.fenceCmd, peer, this.opts.peer, this.opts.fenceTimeoutMs);
      return { ok: f.ok, guard: 'fence', why: f.ok ? `fence command fenced ${peer}` : `fence command failed (exit ${f.code ?? 'timeout'})${f.output ? `: ${f.output}` : ''}` };
    }
    if (this.opts.witness) {
      const a = await askWitness(this.opts.witness, peer, hb.deadlineMs);
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
      if (this.opts.role === 'secondary') await this.opts.colo.failoverSecondary();
      else await this.opts.colo.failoverPrimary();
      const doneAt = performance.now();
      this.heartbeat.mute();
      const what = this.opts.role === 'secondary' ? 'secondary took over as primary' : 'primary dropped replication and serves unprotected';
      this.report({ event: 'failover', silentMs: l.silentMs, guard: g.guard, guardMs, failoverMs: doneAt - t, detectedAt: l.at, doneAt, reason: `${what} (${g.why})` });
    } catch (e) {
      this.report({ event: 'error', silentMs: l.silentMs, detectedAt: l.at, reason: (e as Error).message });
    } finally {
      this.acting = false;
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.checkpoints.dispose();
    await this.heartbeat.stop();
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
