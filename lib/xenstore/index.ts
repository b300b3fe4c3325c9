/**
 * A xenstore wire client, generic over its transport (Unix socket or /dev/xen/xenbus), in the
 * manner of mirage/ocaml-xenstore. The embedded daemon is `colo-xl/xenstored`; this entry point
 * never loads it.
 * @module
 */
export {
  XsOp,
  XsError,
  XsTransactionConflict,
  isXsError,
  formatPerm,
  parsePerm,
  type XsPerm,
  type PermAccess,
  type XsErrno,
  type XsErrnoName,
  type Packet as XsPacket,
  XS_ERRNOS,
} from './messages.js';
export type { Xenstore, XsOps, XsWatch, WatchEvent, TransactionOptions } from './api.js';
export { XsClient, type ClientOptions, type RequestOptions } from './client.js';
export {
  openXenstore,
  defaultStatePath,
  xenPresence,
  XenstoreUnavailableError,
  type EmbeddedStoreProvider,
  type OpenXenstoreOptions,
  type XenstoreAttempt,
} from './open.js';
export { XsFramingError } from './parser.js';
export { UnixSocketTransport, XenbusDeviceTransport, defaultSocketPath, type XsTransport, type TransportHandlers } from './transport.js';
export { WatchQueue } from './watch-queue.js';
