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
export { openXenstore, defaultStatePath, xenPresence, XenstoreUnavailableError, type OpenXenstoreOptions, type XenstoreAttempt } from './xenstore/open.js';
export { UnixSocketTransport, XenbusDeviceTransport, defaultSocketPath, type XsTransport } from './xenstore/transport.js';
export { EmbeddedXenstored, type EmbeddedOptions } from './xenstore/server/embedded.js';
export { StateLockedError } from './xenstore/server/lock.js';
export { QMPError, ConnectError as QMPConnectError, StateError as QMPStateError, ProtocolError as QMPProtocolError, GreetingError, NegotiationError, BadReplyError, ExecuteError, ExecInterruptedError, TimeoutError as QMPTimeoutError, CapabilityError, ConnectionClosedError as QMPConnectionClosedError, MessageTooLongError as QMPMessageTooLongError, NestingTooDeepError as QMPNestingTooDeepError, TruncatedMessageError as QMPTruncatedMessageError, UnexpectedReplyError as QMPUnexpectedReplyError } from './qmp/errors.js';
export { QMPClient, type ExecuteOptions, type TraceEntry } from './qmp/client.js';
export { EventListener, type EventFilter } from './qmp/events.js';
export { Runstate, type QmpAddress, type ConnectOptions as QmpConnectOptions } from './qmp/protocol.js';
export type { QmpMessage, QmpEvent, QmpGreeting } from './qmp/message.js';
export { DEFAULT_MAX_LINE_BYTES as QMP_DEFAULT_MAX_LINE_BYTES, DEFAULT_MAX_DEPTH as QMP_DEFAULT_MAX_DEPTH, type QmpLimits } from './qmp/framing.js';
export { QemuCapabilities, requireFeature, XEN_DISK_REPLICATION, QEMU_COLO, type FeatureNeeds } from './qmp/probe.js';
export { ColoError, ReplicationStatusError, type ColoSide } from './colo/errors.js';
export { type ColoDisk, coloNodeName, coloQdiskSetupSecondary, coloQdiskSavePreresume, coloQdiskTeardownPrimary, startReplication, stopReplication, coloDoCheckpoint, queryXenReplicationStatus } from './colo/qdisk.js';
export { XenDiskReplication, waitFailoverCommit, type CheckpointTiming, type ReplicationState } from './colo/replication.js';
export { resyncDisk, nbdUri, type ResyncProgress, type LevelMirror } from './colo/resync.js';
export { QemuNativeColo, type NativeColoOptions, type ColoStatus } from './colo/native.js';
export { nativePrimaryArgs, nativeSecondaryArgs, primaryFilterObjects, type NativeDisk, type NativeNic } from './colo/native-args.js';
export { QemuProcess, pickAccel, stopAllQemus } from './colo/qemu-process.js';
export { runDemo, type DemoResult, type DemoStep } from './colo/demo.js';
export { coloSave, coloQmpNode, remusRune, saveHeader, readSaveHeader, ExactReader, StreamEnd, COLO_DEFAULT_INTERVAL_MS, type ColoSaveOptions, type RemusRuneOptions } from './colo/remus.js';
export { migrateReceiveColo, domainRename, type ColoReceiveOptions } from './colo/receive.js';
export { YajlGen, yajlEncodeString } from './json/yajl.js';
export { xluCfgReadData, type CfgReadResult } from './config/parse.js';
export { XluConfig, listItem, type CfgValue, type CfgSetting } from './config/settings.js';
export { domainConfigInit, type DomainConfig, type BuildInfo, type CreateInfo, type HvmBuildInfo, type ActionOnShutdown } from './config/domain-config.js';
export { parseConfigData, XlExit, SUPPORTED_KEYS, type ParseConfigOptions, type XlGlobals } from './config/xl-parse.js';
export { domainConfigToJson, domainConfigGenJson, deviceDiskGenJson } from './config/json.js';
export { type StatFn } from './dm/disk-backend.js';
export { buildDiskArgs, scsiControllerArgs, coloTopIds, dmDiskNumber, diskColoMode, qemuDiskFormatString, LIBXL_TOP_ID, type ColoMode, type DiskArgsOptions } from './dm/disk-args.js';
export { qemuOptValue, qemuPath, qemuId, QemuOptionError } from './dm/qemu-opts.js';
export { buildDeviceModelArgsNew, DEFAULT_QEMU_XEN, type DeviceModelArgs, type DeviceModelOptions } from './dm/device-model.js';
export { domainCreateNew, domainCreateRestore, type CheckpointedStream, type CreatedDomain } from './create/create.js';
export { devidToVdev, diskDevNumber, type DiskDevNumber } from './disk/devnum.js';
export { deviceDiskSetBackend } from './disk/backend.js';
export {
  deviceDiskAdd,
  deviceDiskGetinfo,
  deviceDiskList,
  deviceDiskRemove,
  deviceDiskSetdefault,
  diskFromXenstore,
  resolveDiskBackend,
  vdevToDeviceDisk,
  type DiskAddOptions,
  type DiskInfo,
} from './disk/device.js';
export { libxlCtx, libxlHost, type LibxlCtx, type LibxlHost } from './libxl/ctx.js';
export * from './libxl/errors.js';
export { domainMake, type DomainMakeInfo } from './libxl/domain-make.js';
export { domainQualifierToDomid, domainType, type DomainType } from './libxl/domain.js';
export { XenbusState, type RemoveForce, type LibxlDevice } from './libxl/device.js';
export { domainConfigToXml, domainXmlToXlCfg, libvirtFormat, XEN_XL_FORMAT, DomXmlError, type ToNativeResult } from './libvirt/domxml.js';
export { COLO_NS, isCompleteColo } from './libvirt/colo-xml.js';
export { coloBlockTrees, type BlockTreeNode, type ColoDiskTrees } from './libvirt/block-tree.js';
export { parseXml, XmlWriter, XmlError, xmlEscape, type XmlElement } from './libvirt/xml.js';
export { formatXlDisk, formatXlCfg, xlCfgString, XlFormatError } from './libvirt/xl-format.js';
export { migrateDomain, type MigrateOptions } from './migrate/source.js';
export { migrateReceive, childLauncher, type LaunchedQemu, type QemuLauncher, type ReceiveOptions, type ReceiveResult } from './migrate/receive.js';
export { ControlClient, readJsonLines, type ChannelMessage } from './migrate/channel.js';
export { describeSource, vmArgv } from './migrate/vm.js';
export { ProgressPrinter, formatReport } from './migrate/progress.js';
export { MigrateError, type MigrateDisk, type MigrateEvent, type MigrateReport, type MigrateStep, type VmDescription } from './migrate/types.js';
export { Heartbeat, parseHostPort, DEFAULT_INTERVAL_MS, DEFAULT_MISS_COUNT, type HeartbeatOptions, type HostPort, type PeerLost } from './ha/heartbeat.js';
export { HaAgent, formatHaReport, type HaAgentOptions, type HaReport, type HaGuard } from './ha/agent.js';
export { WitnessServer, askWitness, type WitnessAnswer } from './ha/witness.js';
export { runFenceCmd, type FenceResult } from './ha/fence.js';
export { runDrill, type DrillOptions, type DrillSummary, type DrillRun } from './ha/drill.js';
export { makeTlsDir, isTlsDir, tlsCredsArg, tlsCredsObject, type TlsDirOptions } from './tls/x509.js';
