/**
 * Spawning and supervising QEMU processes: a QemuGroup owns the QEMUs it spawns.
 * @module
 */
export {
  QemuGroup,
  QemuProcess,
  spawnDetached,
  pickAccel,
  commonArgs,
  createImage,
  qemuImg,
  runQemuImg,
  ioVerdict,
  freePort,
  freePorts,
  DEFAULT_QEMU_PATHS,
  QEMU_BIN,
  QEMU_IMG,
  QEMU_IO,
  type QemuGroupOptions,
  type QemuPaths,
} from './process.js';
export { QemuError, QemuExitedError, QemuImgError, QemuNoFreePortError } from './errors.js';
