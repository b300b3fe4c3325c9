/**
 * parse_config_data's simple PV device lists (tools/xl/xl_parse.c, Xen 4.17): p9=, vtpm=,
 * pvcalls=. Each item is split on ",", leading blanks dropped, and read as key=value up to the
 * first token without "=".
 */

import type { DeviceVtpm } from '../libxl/types/devices.js';
import type { DomainConfig } from '../libxl/types/domain-config.js';
import { eachListItem, keyValuePairs, type XlGetters } from './getters.js';
import { uuidFromString } from '../libxl/uuid.js';

// parse_config_data: p9= (xl declares the four values outside its loop, so an item inherits what
// an earlier one set; and it re-initialises each device, which leaves its devid at the default)
export function parseP9s(g: XlGetters, d: DomainConfig): void {
  const seen: Partial<Record<'security_model' | 'path' | 'tag' | 'backend', string>> = {};
  eachListItem(g, 'p9', (spec) => {
    for (const [k, v] of keyValuePairs(spec)) {
      if (k === 'security_model' || k === 'path' || k === 'tag' || k === 'backend') seen[k] = v;
      else g.fail(`Unknown string \`${k}' in 9pfs spec\n`);
    }
    if (seen.path === undefined || seen.security_model === undefined || seen.tag === undefined) {
      g.fail('9pfs spec missing required field!\n');
    }
    d.p9s.push({ backend_domname: seen.backend ?? null, tag: seen.tag!, path: seen.path!, security_model: seen.security_model! });
  });
}

// parse_config_data: vtpm=
export function parseVtpms(g: XlGetters, d: DomainConfig): void {
  eachListItem(g, 'vtpm', (spec, i) => {
    const v: DeviceVtpm = { backend_domname: null, devid: i, uuid: null };
    let gotBackend = false;
    for (const [k, val] of keyValuePairs(spec)) {
      if (k === 'backend') {
        v.backend_domname = val;
        gotBackend = true;
      } else if (k === 'uuid') {
        const u = uuidFromString(val);
        if (u === null) g.fail(`Failed to parse vtpm UUID: ${val}\n`);
        v.uuid = u;
      } else g.fail(`Unknown string \`${k}' in vtpm spec\n`);
    }
    if (!gotBackend) g.fail('vtpm spec missing required backend field!\n');
    d.vtpms.push(v);
  });
}

// parse_config_data: pvcalls=
export function parsePvcalls(g: XlGetters, d: DomainConfig): void {
  eachListItem(g, 'pvcalls', (spec, i) => {
    let backend: string | null = null;
    for (const [k, v] of keyValuePairs(spec)) {
      if (k === 'backend') backend = v;
      else g.fail(`Unknown string \`${k}' in pvcalls spec\n`);
    }
    d.pvcallsifs.push({ backend_domname: backend, devid: i });
  });
}
