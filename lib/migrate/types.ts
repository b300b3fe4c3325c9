/**
 * Shared shapes of a live migration with local-disk mirroring (seed 004's `xl migrate -q`, done
 * with plain QEMU): what the source tells the destination about the VM, the structured progress
 * events, the final report, and the error that names the step that failed.
 */
import { ColoXlError } from '../errors.js';

/** One local disk of the VM as the source QEMU reports it. */
export interface MigrateDisk {
  /** The drive id (query-block `device`); also the NBD export name and the destination's drive id. */
  device: string;
  /** IDE position (0 = hda); the destination attaches the disk at the same place. */
  index: number;
  /** Image file on the source. */
  file: string;
  format: string;
  /** Virtual size in bytes: the destination image is created at exactly this size. */
  size: number;
  /** Backing file, when the image has one: it is shared, so only the top layer is mirrored. */
  backing?: string;
  backingFormat?: string;
}

/** What the destination needs to start a QEMU the source's state fits into. */
export interface VmDescription {
  machine: string;
  accel: 'kvm' | 'tcg';
  memoryMiB: number;
  disks: MigrateDisk[];
}

/** The ordered steps of the flow; an error carries the one that failed. */
export type MigrateStep =
  | 'describe'
  | 'prepare'
  | 'mirror-start'
  | 'mirror-sync'
  | 'migrate-incoming'
  | 'migrate'
  | 'mirror-end'
  | 'finish'
  | 'source-quit';

export type MigrateEvent =
  | { type: 'step'; step: MigrateStep; at: number }
  | { type: 'disk'; device: string; copied: number; remaining: number; total: number; ready: boolean; at: number }
  | {
      type: 'memory';
      status: string;
      transferredBytes: number;
      remainingBytes: number;
      totalBytes: number;
      pagesSent: number;
      dirtyPagesRate: number;
      at: number;
    }
  | { type: 'rollback'; step: MigrateStep; reason: string; at: number }
  | { type: 'done'; report: MigrateReport; at: number };

export interface MigrateReport {
  /** From the first QMP command to the source's quit, in ms. */
  totalMs: number;
  /** Until every mirror job was READY. */
  mirrorMs: number;
  /** The memory phase: migrate to completed. */
  migrateMs: number;
  /** QEMU's own measure of the pause (query-migrate `downtime`). */
  downtimeMs: number;
  disks: Array<{ device: string; bytes: number }>;
  memoryBytes: number;
  /** Where the VM runs now (destination's description, e.g. its QEMU pid and QMP socket). */
  destination: { pid: number; qmp: string };
}

/**
 * The migration failed (and was rolled back): `step` is where, `reason` why, `cause` the failure
 * itself (a MigrateFailure, a QMP error...). Code MIGRATE_FAILED.
 */
export class MigrateError extends ColoXlError {
  constructor(
    readonly step: MigrateStep,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super('MIGRATE_FAILED', `migration failed at step ${step}: ${reason}`, options);
  }
}

/**
 * One thing that went wrong on either end, before it is reported as a MigrateError (source) or
 * as the destination's `{ok: false}` reply. Codes: MIGRATE_CANCELLED, MIGRATE_PEER_FAILED,
 * MIGRATE_NO_DISK, MIGRATE_MIRROR_FAILED, MIGRATE_MEMORY_FAILED, MIGRATE_TIMEOUT,
 * MIGRATE_TLS_DIR, MIGRATE_DISK_EXISTS, MIGRATE_OUT_OF_ORDER, MIGRATE_UNKNOWN_REQUEST,
 * MIGRATE_TORN_DOWN, MIGRATE_INCOMING_FAILED, MIGRATE_QEMU_START.
 */
export class MigrateFailure extends ColoXlError {}

/**
 * The control channel failed: MIGRATE_CHANNEL_CLOSED (the other side went), MIGRATE_CHANNEL_TIMEOUT
 * (no reply in time), MIGRATE_CHANNEL_BUSY (a request while one is pending), MIGRATE_REMOTE_ERROR
 * (the destination answered `{ok: false}`).
 */
export class MigrateChannelError extends ColoXlError {}
