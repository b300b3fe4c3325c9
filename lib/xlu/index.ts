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
export { CfgParseContext } from './cfg/lexer.js';
export type { DiskToken } from './disk/scanner.js';
export { XluConfig, listItem, type CfgValue, type CfgSetting, type Assignment } from './cfg/settings.js';
export { formatXlDisk, formatXlCfg, xlCfgString, XlFormatError, type XlSetting } from './format.js';
