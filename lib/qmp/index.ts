/**
 * A QMP client: an async protocol base, typed errors that carry what was sent and received, events.
 * @module
 */
export {
  QMPError,
  QMPConnectError,
  QMPStateError,
  QMPProtocolError,
  QMPConnectionClosedError,
  QMPGreetingError,
  QMPNegotiationError,
  QMPBadReplyError,
  QMPNestingTooDeepError,
  QMPMessageTooLongError,
  QMPTruncatedMessageError,
  QMPUnexpectedReplyError,
  QMPExecuteError,
  QMPExecInterruptedError,
  QMPTimeoutError,
  QMPCapabilityError,
} from './errors.js';
export { QMPClient, type ExecuteOptions, type QMPClientOptions } from './client.js';
export { EventHub, EventListener, type EventFilter } from './events.js';
export { Runstate, type QmpAddress, type QmpStreamFactory, type TraceEntry, type Incoming, type ConnectOptions as QmpConnectOptions } from './protocol.js';
export type { QmpMessage, QmpEvent, QmpGreeting } from './types.js';
export { DEFAULT_MAX_LINE_BYTES as QMP_DEFAULT_MAX_LINE_BYTES, DEFAULT_MAX_DEPTH as QMP_DEFAULT_MAX_DEPTH, type QmpLimits } from './framing.js';
export { QemuCapabilities, requireFeature, XEN_DISK_REPLICATION, QEMU_COLO, type FeatureNeeds } from './probe.js';
