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
