/**
 * COLO disk replication over QMP: the libxl way (xen-colo-* commands) and the QEMU-native way.
 * @module
 */
export { ColoError, ReplicationStatusError, type ColoSide } from './errors.js';
export { type ColoDisk, coloNodeName, coloQdiskSetupSecondary, coloQdiskSavePreresume, coloQdiskTeardownPrimary, startReplication, stopReplication, coloDoCheckpoint, queryXenReplicationStatus } from './qdisk.js';
export { XenDiskReplication, waitFailoverCommit, type CheckpointTiming, type ReplicationState, type ReplicationOptions } from './replication.js';
export { resyncDisk, nbdUri, DEFAULT_RESYNC_TIMEOUT_MS, type ResyncOptions, type ResyncProgress, type LevelMirror } from './resync.js';
export { QemuNativeColo, DEFAULT_ENTRY_TIMEOUT_MS, DEFAULT_FAILOVER_TIMEOUT_MS, type NativeColoOptions, type ColoStatus } from './native.js';
export { CheckpointWatch, CheckpointError, type Checkpoint, type CheckpointFailure } from './checkpoint.js';
export { nativePrimaryArgs, nativeSecondaryArgs, primaryFilterObjects, type NativeDisk, type NativeNic } from './native-args.js';
export { coloSave, coloQmpNode, remusRune, COLO_DEFAULT_INTERVAL_MS, type ColoSaveOptions, type RemusRuneOptions } from './remus.js';
export { migrateReceiveColo, domainRename, type ColoReceiveOptions, type ReceiveMessages } from './receive.js';
