/**
 * xl.c's parse_global_config, for the options of /etc/xen/xl.conf that reach a domain config.
 */
import { existsSync, readFileSync } from 'node:fs';
import { xluCfgReadData } from '../xlu/cfg/parse.js';
import { XL_GLOBAL_DEFAULTS, type XlGlobals } from './parse.js';

/** The global xl.conf options that reach a domain config (xl.c parse_global_config). */
export function readXlGlobals(path = '/etc/xen/xl.conf'): XlGlobals {
  if (!existsSync(path)) return XL_GLOBAL_DEFAULTS;
  const g = { ...XL_GLOBAL_DEFAULTS };
  const { config, err } = xluCfgReadData(readFileSync(path, 'utf8'), path);
  if (err) return g;
  const hotplug = config.getLong('run_hotplug_scripts');
  if (typeof hotplug !== 'number') g.runHotplugScripts = hotplug.value !== 0n;
  const claim = config.getLong('claim_mode');
  if (typeof claim !== 'number') g.claimMode = claim.value !== 0n;
  return g;
}
