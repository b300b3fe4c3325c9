/**
 * An xenstored: the embedded daemon (in-process or on a Unix socket) with quotas, transactions and persistence.
 * @module
 */
export { EmbeddedXenstored, type EmbeddedOptions } from './embedded.js';
export { StateLockedError } from './lock.js';
