/**
 * koffi bindings to Xen's own C libraries (libxenstore): the same Xenstore interface as the wire
 * client, answered by Xen's code. koffi is an optional dependency; loading fails with a typed
 * error when it or the library is missing.
 * @module
 */
export * from './libxenstore.js';
export * from './libxenlight.js';
