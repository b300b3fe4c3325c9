/**
 * A QMP client: an async protocol base, typed errors that carry what was sent and received, events.
 * @module
 */
export { QMPError, ConnectError as QMPConnectError, StateError as QMPStateError, ProtocolError as QMPProtocolError, GreetingError, NegotiationError, BadReplyError, ExecuteError, ExecInterruptedError, TimeoutError as QMPTimeoutError, CapabilityError, ConnectionClosedError as QMPConnectionClosedError, MessageTooLongError as QMPMessageTooLongError, NestingTooDeepError as QMPNestingTooDeepError, TruncatedMessageError as QMPTruncatedMessageError, UnexpectedReplyError as QMPUnexpectedReplyError } from './errors.js';
export { QMPClient, type ExecuteOptions, type TraceEntry } from './client.js';
export { EventListener, type EventFilter } from './events.js';
export { Runstate, type QmpAddress, type ConnectOptions as QmpConnectOptions } from './protocol.js';
export type { QmpMessage, QmpEvent, QmpGreeting } from './message.js';
export { DEFAULT_MAX_LINE_BYTES as QMP_DEFAULT_MAX_LINE_BYTES, DEFAULT_MAX_DEPTH as QMP_DEFAULT_MAX_DEPTH, type QmpLimits } from './framing.js';
export { QemuCapabilities, requireFeature, XEN_DISK_REPLICATION, QEMU_COLO, type FeatureNeeds } from './probe.js';
