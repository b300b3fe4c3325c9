/**
 * The languages libxlutil parses (xl-disk-configuration(5) disk specs, xl.cfg files) and their formatters.
 * @module
 */
export {
  parseDiskSpec,
  DiskSpecError,
  DiskScannerFatal,
  formatDiskSpecMessage,
  tokenizeDiskSpec,
  type DiskSpecMessage,
  type ParseDiskSpecOptions,
} from './disk/parse.js';
export { xluCfgReadData, type CfgReadResult } from './cfg/parse.js';
export { XluConfig, listItem, type CfgValue, type CfgSetting } from './cfg/settings.js';
export { formatXlDisk, formatXlCfg, xlCfgString, XlFormatError } from './format.js';
