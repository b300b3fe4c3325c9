/**
 * colo-xl: the parts of Xen 4.17's libxl/xl toolstack that make COLO disk replication work.
 */
export * from './disk/types.js';
export {
  parseDiskSpec,
  DiskSpecError,
  DiskScannerFatal,
  formatDiskSpecMessage,
  tokenizeDiskSpec,
  type DiskSpecMessage,
  type ParseDiskSpecOptions,
} from './disk/parse.js';
export { diskToJson, diskJsonFields } from './disk/json.js';
export { main as cliMain } from './cli/main.js';
export { CapturedIo, type Io } from './cli/io.js';
export { XsOp, XsError, XsTransactionConflict, formatPerm, parsePerm, type XsPerm, type PermAccess, type XsErrno, type Packet as XsPacket } from './xenstore/messages.js';
export type { Xenstore, XsOps, XsWatch, WatchEvent, TransactionOptions } from './xenstore/api.js';
export { XsClient, type ClientOptions } from './xenstore/client.js';
export { openXenstore, defaultStatePath, type OpenXenstoreOptions } from './xenstore/open.js';
export { UnixSocketTransport, XenbusDeviceTransport, defaultSocketPath, type XsTransport } from './xenstore/transport.js';
export { EmbeddedXenstored, type EmbeddedOptions } from './xenstore/server/embedded.js';
export { QMPError, ConnectError as QMPConnectError, StateError as QMPStateError, ProtocolError as QMPProtocolError, GreetingError, NegotiationError, BadReplyError, ExecuteError, ExecInterruptedError, TimeoutError as QMPTimeoutError, CapabilityError } from './qmp/errors.js';
export { QMPClient, type ExecuteOptions, type TraceEntry } from './qmp/client.js';
export { EventListener, type EventFilter } from './qmp/events.js';
export { Runstate, type QmpAddress, type ConnectOptions as QmpConnectOptions } from './qmp/protocol.js';
export type { QmpMessage, QmpEvent, QmpGreeting } from './qmp/message.js';
export { QemuCapabilities, requireFeature, XEN_DISK_REPLICATION, QEMU_COLO, type FeatureNeeds } from './qmp/probe.js';
export { ColoError, ReplicationStatusError, type ColoSide } from './colo/errors.js';
export { type ColoDisk, coloNodeName, coloQdiskSetupSecondary, coloQdiskSavePreresume, coloQdiskTeardownPrimary, startReplication, stopReplication, coloDoCheckpoint, queryXenReplicationStatus } from './colo/qdisk.js';
export { XenDiskReplication, waitFailoverCommit, type CheckpointTiming, type ReplicationState } from './colo/replication.js';
export { resyncDisk, nbdUri, type ResyncProgress, type LevelMirror } from './colo/resync.js';
