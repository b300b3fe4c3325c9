/**
 * A xenstore wire client, generic over its transport (Unix socket or /dev/xen/xenbus).
 * @module
 */
export { XsOp, XsError, XsTransactionConflict, formatPerm, parsePerm, type XsPerm, type PermAccess, type XsErrno, type Packet as XsPacket } from './messages.js';
export type { Xenstore, XsOps, XsWatch, WatchEvent, TransactionOptions } from './api.js';
export { XsClient, type ClientOptions } from './client.js';
export { openXenstore, defaultStatePath, xenPresence, XenstoreUnavailableError, type OpenXenstoreOptions, type XenstoreAttempt } from './open.js';
export { UnixSocketTransport, XenbusDeviceTransport, defaultSocketPath, type XsTransport } from './transport.js';
