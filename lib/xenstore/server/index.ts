/**
 * An xenstored: the embedded daemon (in-process or on a Unix socket) with quotas, transactions and
 * persistence, and {@link EmbeddedStores}, the owner openXenstore's embedded modes need.
 * @module
 */
export { EmbeddedXenstored, type EmbeddedOptions } from './embedded.js';
export type { Limits } from './ops.js';
export { EmbeddedStores } from './stores.js';
export { StateLockedError } from './lock.js';
export { JournalFormatError } from './journal-record.js';
export { XenstoreSocketServer, type SocketServerOptions } from './socket-server.js';
