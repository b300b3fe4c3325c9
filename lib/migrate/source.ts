/**
 * The source end (`colo-xl migrate`): seed 004's phases two and three over QMP. Every local disk
 * is mirrored into the destination's NBD exports (blockdev-mirror; `top` when the image has a
 * backing file both hosts share), and once every job is READY the memory follows (the destination
 * listens first: migrate-incoming, then migrate). The mirror jobs are then cancelled, which leaves
 * the source on its own images, and the source QEMU quits. Any failure before that rolls back:
 * the migration is cancelled, the jobs and NBD nodes are removed, the VM runs on where it was, and
 * the destination is told to tear down.
 */
import type { QMPClient } from '../qmp/client.js';
import type { QmpEvent } from '../qmp/message.js';
import { scopedLogger, type Logger } from '../util/log.js';
import { sleep } from '../util/wait.js';
import type { ControlClient } from './channel.js';
import { addTlsCreds, setMigrationTls, TLS_OBJECT_ID } from './tls.js';
import { MigrateError, MigrateFailure, type MigrateEvent, type MigrateReport, type MigrateStep, type VmDescription } from './types.js';
import { describeSource } from './vm.js';

export interface MigrateOptions {
  /** The source QEMU's QMP session. */
  qmp: QMPClient;
  /** The control channel to migrate-receive. */
  peer: ControlClient;
  /** The destination's address for NBD and the memory stream. */
  address: string;
  /** Bytes/s for each mirror job (0 or omitted: no limit). */
  mirrorSpeed?: number;
  /** Mirror buffer per disk (QEMU's buf-size), bytes. */
  bufSize?: number;
  /** Bytes/s for the memory stream (QEMU's max-bandwidth; omitted: unlimited). */
  migrateSpeed?: number;
  /** Directory with the client's x509 files: encrypts NBD and the memory stream. */
  tlsDir?: string;
  /** Cancels the migration (rolled back; the MigrateError's reason says so). */
  signal?: AbortSignal;
  /** Progress, for a management stack or the CLI: steps, disk and memory copy, rollback, the report. */
  onEvent?: (e: MigrateEvent) => void;
  /** Diagnostics: steps as they start, what the rollback could not undo. Scoped `migrate`. */
  logger?: Logger;
  /** Progress polling period (ms). */
  pollMs?: number;
  /** Longest wait for the mirror to be READY or the memory to be copied (ms, default 10 min). */
  timeoutMs?: number;
}

interface BlockJob {
  device: string;
  len: number;
  offset: number;
  ready: boolean;
  status: string;
}

interface MigrateInfo {
  status?: string;
  'total-time'?: number;
  downtime?: number;
  'error-desc'?: string;
  ram?: { transferred: number; remaining: number; total: number; normal: number; duplicate: number; 'dirty-pages-rate': number };
}

const UNLIMITED_BANDWIDTH = 0x7fffffffffff;
// QEMU's default mirror buffer kept the copy at about 75% of a plain qemu-img convert to the same
// NBD export on loopback; 32 MiB of buffer per disk brings it level (bench/migrate.bench.ts)
const DEFAULT_BUF_SIZE = 32 * 1024 * 1024;

const jobId = (i: number): string => `colo-xl-mirror${i}`;
const nodeName = (i: number): string => `colo-xl-mirror-target${i}`;

/** Live-migrates the VM behind `opts.qmp` with its local disks; resolves with the final report. */
export async function migrateDomain(opts: MigrateOptions): Promise<MigrateReport> {
  const { qmp, peer } = opts;
  const emit = opts.onEvent ?? (() => undefined);
  const log = scopedLogger(opts.logger, 'migrate');
  const pollMs = opts.pollMs ?? 100;
  const timeoutMs = opts.timeoutMs ?? 600_000;
  const t0 = Date.now();
  let step: MigrateStep = 'describe';
  let vm: VmDescription | null = null;
  let wasRunning = false;
  let jobsStarted = 0;
  let nodesAdded = 0;
  let migrating = false;
  let tlsAdded = false;
  let peerTrouble: string | null = null;
  const unsubscribe = [
    peer.onNotice((m) => (peerTrouble = typeof m.reason === 'string' ? m.reason : 'destination failed')),
    peer.onClose((why) => (peerTrouble ??= why)),
  ];
  const jobEvents = qmp.listen(['BLOCK_JOB_READY', 'BLOCK_JOB_COMPLETED', 'BLOCK_JOB_CANCELLED', 'BLOCK_JOB_ERROR']);

  const enter = (s: MigrateStep): void => {
    step = s;
    log.debug(`step ${s}`);
    emit({ type: 'step', step: s, at: Date.now() });
    // trouble noticed between two steps (a closed channel, a cancel) is the next step's failure
    check();
  };
  const check = (): void => {
    if (opts.signal?.aborted) {
      throw new MigrateFailure('MIGRATE_CANCELLED', `cancelled on the source${opts.signal.reason ? `: ${String(opts.signal.reason)}` : ''}`, { cause: opts.signal.reason });
    }
    if (peerTrouble !== null) throw new MigrateFailure('MIGRATE_PEER_FAILED', peerTrouble);
  };
  // a cancel during a pause is the cancellation itself, reported as check() words it
  const pause = (ms: number): Promise<void> => sleep(ms, { signal: opts.signal }).catch(() => check());

  try {
    enter('describe');
    vm = await describeSource(qmp);
    if (vm.disks.length === 0) throw new MigrateFailure('MIGRATE_NO_DISK', 'the VM has no local disk to mirror');
    wasRunning = (await qmp.execute<{ running: boolean }>('query-status')).running;

    enter('prepare');
    const prep = await peer.request('prepare', { vm, address: opts.address, tls: opts.tlsDir !== undefined });
    const nbdPort = Number(prep.nbdPort);

    enter('mirror-start');
    const tMirror = Date.now();
    if (opts.tlsDir) {
      await addTlsCreds(qmp, opts.tlsDir, 'client');
      tlsAdded = true;
    }
    for (const [i, d] of vm.disks.entries()) {
      await qmp.execute('blockdev-add', {
        driver: 'nbd',
        'node-name': nodeName(i),
        server: { type: 'inet', host: opts.address, port: String(nbdPort) },
        export: d.device,
        ...(tlsAdded ? { 'tls-creds': TLS_OBJECT_ID } : {}),
      });
      nodesAdded = i + 1;
      await qmp.execute('blockdev-mirror', {
        'job-id': jobId(i),
        device: d.device,
        target: nodeName(i),
        sync: d.backing ? 'top' : 'full',
        'buf-size': opts.bufSize ?? DEFAULT_BUF_SIZE,
        ...(opts.mirrorSpeed ? { speed: opts.mirrorSpeed } : {}),
      });
      jobsStarted = i + 1;
    }

    enter('mirror-sync');
    const ready = new Set<string>();
    const deadline = tMirror + timeoutMs;
    const bytes = new Map<string, number>();
    for (;;) {
      check();
      while (jobEvents.pending > 0) {
        const e: QmpEvent | null = await jobEvents.next({ timeoutMs: 0 });
        if (!e) break;
        const data = (e.data ?? {}) as { device?: string; error?: string };
        if (e.event === 'BLOCK_JOB_READY' && data.device) ready.add(data.device);
        else if (e.event !== 'BLOCK_JOB_READY') throw new MigrateFailure('MIGRATE_MIRROR_FAILED', `${data.device ?? 'mirror job'} ended early: ${e.event}${data.error ? ` (${data.error})` : ''}`);
      }
      const jobs = (await qmp.execute<BlockJob[]>('query-block-jobs')).filter((j) => j.device.startsWith('colo-xl-mirror'));
      for (const [i, d] of vm.disks.entries()) {
        const j = jobs.find((x) => x.device === jobId(i));
        if (!j) throw new MigrateFailure('MIGRATE_MIRROR_FAILED', `mirror job of ${d.device} is gone`);
        bytes.set(d.device, j.offset);
        emit({ type: 'disk', device: d.device, copied: j.offset, remaining: j.len - j.offset, total: j.len, ready: j.ready, at: Date.now() });
      }
      if (jobs.length === vm.disks.length && jobs.every((j) => j.ready || ready.has(j.device))) break;
      if (Date.now() > deadline) throw new MigrateFailure('MIGRATE_TIMEOUT', `mirror not READY within ${timeoutMs} ms`);
      await pause(pollMs);
    }
    const mirrorMs = Date.now() - tMirror;

    enter('migrate-incoming');
    const inc = await peer.request('incoming');

    enter('migrate');
    if (tlsAdded) await setMigrationTls(qmp, TLS_OBJECT_ID);
    await qmp.execute('migrate-set-parameters', { 'max-bandwidth': opts.migrateSpeed ?? UNLIMITED_BANDWIDTH });
    const tMig = Date.now();
    await qmp.execute('migrate', { uri: String(inc.uri) });
    migrating = true;
    let info: MigrateInfo;
    for (;;) {
      check();
      info = await qmp.execute<MigrateInfo>('query-migrate');
      if (info.ram) {
        emit({
          type: 'memory',
          status: info.status ?? '?',
          transferredBytes: info.ram.transferred,
          remainingBytes: info.ram.remaining,
          totalBytes: info.ram.total,
          pagesSent: info.ram.normal + info.ram.duplicate,
          dirtyPagesRate: info.ram['dirty-pages-rate'],
          at: Date.now(),
        });
      }
      if (info.status === 'completed') break;
      if (info.status === 'failed' || info.status === 'cancelled') throw new MigrateFailure('MIGRATE_MEMORY_FAILED', `memory migration ${info.status}${info['error-desc'] ? `: ${info['error-desc']}` : ''}`);
      if (Date.now() > tMig + timeoutMs) throw new MigrateFailure('MIGRATE_TIMEOUT', `memory migration not completed within ${timeoutMs} ms`);
      await pause(Math.min(pollMs, 10));
    }
    migrating = false;
    const migrateMs = Date.now() - tMig;

    enter('mirror-end');
    // a READY job cancelled without force syncs what is left and detaches: the source keeps its images
    jobEvents.clear();
    for (let i = 0; i < jobsStarted; i++) await qmp.execute('block-job-cancel', { device: jobId(i) });
    await waitJobsGone(qmp, jobsStarted, 30_000);
    const left = jobsStarted;
    jobsStarted = 0;
    for (; nodesAdded > 0; nodesAdded--) await qmp.execute('blockdev-del', { 'node-name': nodeName(nodesAdded - 1) });

    enter('finish');
    const fin = await peer.request('finish');

    enter('source-quit');
    await qmp.execute('quit').catch(() => undefined);
    const report: MigrateReport = {
      totalMs: Date.now() - t0,
      mirrorMs,
      migrateMs,
      downtimeMs: info.downtime ?? 0,
      disks: vm.disks.slice(0, left).map((d) => ({ device: d.device, bytes: bytes.get(d.device) ?? 0 })),
      memoryBytes: info.ram?.transferred ?? 0,
      destination: { pid: Number(fin.pid), qmp: String(fin.qmp) },
    };
    emit({ type: 'done', report, at: Date.now() });
    return report;
  } catch (e) {
    const reason = (e as Error).message;
    emit({ type: 'rollback', step, reason, at: Date.now() });
    await rollback(qmp, peer, log, { migrating, jobsStarted, nodesAdded, tlsAdded, wasRunning, reason });
    throw new MigrateError(step, reason, { cause: e });
  } finally {
    for (const u of unsubscribe) u();
    qmp.removeListener(jobEvents);
  }
}

/** Waits until none of our mirror jobs is listed any more. */
async function waitJobsGone(qmp: QMPClient, count: number, timeoutMs: number): Promise<void> {
  if (count === 0) return;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const jobs = (await qmp.execute<BlockJob[]>('query-block-jobs')).filter((j) => j.device.startsWith('colo-xl-mirror'));
    if (jobs.length === 0) return;
    // a job that failed waits to be dismissed when auto-dismiss is off; ours use the default (on)
    if (Date.now() > deadline) throw new MigrateFailure('MIGRATE_TIMEOUT', `mirror jobs still listed after ${timeoutMs} ms: ${jobs.map((j) => `${j.device}:${j.status}`).join(', ')}`);
    await sleep(10);
  }
}

/** Puts the source back as it was and tells the destination to tear down; best effort throughout. */
async function rollback(
  qmp: QMPClient,
  peer: ControlClient,
  log: Logger,
  s: { migrating: boolean; jobsStarted: number; nodesAdded: number; tlsAdded: boolean; wasRunning: boolean; reason: string },
): Promise<void> {
  // best effort: what cannot be undone is logged, and the next step is tried all the same
  const quiet = async (p: Promise<unknown>): Promise<void> =>
    void (await p.catch((e: unknown) => log.warn('rollback step failed', { error: e instanceof Error ? e.message : String(e) })));
  if (s.migrating) {
    await quiet(qmp.execute('migrate_cancel'));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const st = await qmp.execute<MigrateInfo>('query-migrate').catch(() => ({ status: 'failed' }));
      if (st.status !== 'active' && st.status !== 'cancelling' && st.status !== 'device' && st.status !== 'pre-switchover') break;
      await sleep(10);
    }
  }
  for (let i = 0; i < s.jobsStarted; i++) await quiet(qmp.execute('block-job-cancel', { device: jobId(i), force: true }));
  await quiet(waitJobsGone(qmp, s.jobsStarted, 10_000));
  for (let i = 0; i < s.nodesAdded; i++) await quiet(qmp.execute('blockdev-del', { 'node-name': nodeName(i) }));
  if (s.tlsAdded) {
    await quiet(qmp.execute('migrate-set-parameters', { 'tls-creds': '' }));
    await quiet(qmp.execute('object-del', { id: TLS_OBJECT_ID }));
  }
  if (s.wasRunning) {
    const st = await qmp.execute<{ running: boolean }>('query-status').catch(() => ({ running: true }));
    if (!st.running) await quiet(qmp.execute('cont'));
  }
  if (peer.closed === null) await quiet(peer.request('abort', { reason: s.reason }, { timeoutMs: 15_000 }));
}
