/**
 * xl's parse_config_data: an xl.cfg file to a libxl domain config, with xl's exact messages and exit statuses.
 * @module
 */
export { parseConfigData, XlExit, XlCrashes, SUPPORTED_KEYS, type ParseConfigOptions, type XlGlobals } from './parse.js';
