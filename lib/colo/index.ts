/**
 * COLO disk replication over QMP: the libxl way (xen-colo-* commands) and the QEMU-native way.
 * @module
 */
export { ColoError, ReplicationStatusError, type ColoSide } from './errors.js';
export { type ColoDisk, coloNodeName, coloQdiskSetupSecondary, coloQdiskSavePreresume, coloQdiskTeardownPrimary, startReplication, stopReplication, coloDoCheckpoint, queryXenReplicationStatus } from './qdisk.js';
export { XenDiskReplication, waitFailoverCommit, type CheckpointTiming, type ReplicationState } from './replication.js';
export { resyncDisk, nbdUri, type ResyncProgress, type LevelMirror } from './resync.js';
export { QemuNativeColo, type NativeColoOptions, type ColoStatus } from './native.js';
export { nativePrimaryArgs, nativeSecondaryArgs, primaryFilterObjects, type NativeDisk, type NativeNic } from './native-args.js';
export { coloSave, coloQmpNode, remusRune, saveHeader, readSaveHeader, ExactReader, StreamEnd, COLO_DEFAULT_INTERVAL_MS, type ColoSaveOptions, type RemusRuneOptions } from './remus.js';
export { migrateReceiveColo, domainRename, type ColoReceiveOptions } from './receive.js';
