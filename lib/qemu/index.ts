/**
 * Spawning and supervising QEMU processes.
 * @module
 */
export { QemuProcess, pickAccel, stopAllQemus } from './process.js';
