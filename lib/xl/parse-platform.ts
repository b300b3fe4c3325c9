/**
 * parse_config_data's platform keys (tools/xl/xl_parse.c, Xen 4.17): the XSM labels, the ARM
 * vuart and GIC version, the TEE, device-tree passthrough paths, raw I/O ports and IRQs, and the
 * HVM MCA capabilities.
 */

import { strtoul } from '../util/cstr.js';
import type { DomainConfig } from '../libxl/types/domain-config.js';
import { xlCrashes } from './devices.js';
import { eachListItem, enumFromString, ESRCH, type XlGetters } from './getters.js';

const UINT32_MAX = 0xffffffffn;
/** XEN_HVM_MCA_CAP_LMCE */
const MCA_CAP_LMCE = 1n;

// parse_config_data: init_seclabel, seclabel (read before anything else)
export function parseSeclabels(g: XlGetters, d: DomainConfig): void {
  if (g.str('init_seclabel') !== null) d.c_info.ssid_label = g.replace('init_seclabel', d.c_info.ssid_label);
  if (g.str('seclabel') !== null) {
    if (d.c_info.ssid_label !== null) d.b_info.exec_ssid_label = g.replace('seclabel', d.b_info.exec_ssid_label);
    else d.c_info.ssid_label = g.replace('seclabel', d.c_info.ssid_label);
  }
}

// parse_config_data: vuart
export function parseVuart(g: XlGetters, d: DomainConfig): void {
  const buf = g.str('vuart');
  if (buf === null) return;
  const v = enumFromString(['unknown', 'sbsa_uart'], buf);
  if (v === null) g.fail(`ERROR: invalid value "${buf}" for "vuart"\n`);
  d.b_info.vuart = v!;
}

// parse_config_data: dtdev
export function parseDtdevs(g: XlGetters, d: DomainConfig): void {
  eachListItem(g, 'dtdev', (path) => d.dtdevs.push(path));
}

/** Each item of a list, in order; a non-string item ends xl with "Unable to get element" when reached. */
function* items(g: XlGetters, key: string, what: string): Generator<string> {
  const list = g.config.getList(key);
  if (typeof list === 'number') return;
  for (let i = 0; i < list.length; i++) {
    const v = list[i]!;
    if (v.kind !== 'string') g.fail(`xl: Unable to get element ${what}${i} in ${key === 'irqs' ? 'irq' : 'ioport'} list\n`);
    yield (v as { value: string }).value;
  }
}

// parse_config_data: ioports (hex, "first[-last]"; trailing junk after one port is only reported)
export function parseIoports(g: XlGetters, d: DomainConfig): void {
  for (const buf of items(g, 'ioports', '#')) {
    const invalid = (): never => g.fail(`xl: Invalid argument parsing ioport: ${buf}\n`);
    const tooBig = (ul: bigint): never => g.fail(`xl: ioport ${ul.toString(16)} too big\n`);
    let r = strtoul(buf, 16);
    if (r.end === 0) invalid();
    if (r.value >= UINT32_MAX) tooBig(r.value);
    const start = Number(r.value);
    let end = start;
    const rest = buf.slice(r.end);
    if (rest.startsWith('-')) {
      const buf2 = rest.slice(1);
      r = strtoul(buf2, 16);
      // xl compares start with end before it sets end, so a reversed range passes (and wraps).
      if (r.end === 0 || r.end !== buf2.length) invalid();
      if (r.value >= UINT32_MAX) tooBig(r.value);
      end = Number(r.value);
    } else if (rest !== '') {
      g.err(`xl: Invalid argument parsing ioport: ${buf}\n`);
    }
    d.b_info.ioports.push({ first: start, number: (end - start + 1) >>> 0 });
  }
}

// parse_config_data: irqs (decimal)
export function parseIrqs(g: XlGetters, d: DomainConfig): void {
  for (const buf of items(g, 'irqs', '')) {
    const r = strtoul(buf, 10);
    if (r.end === 0 || r.end !== buf.length) g.fail(`xl: Invalid argument parsing irq: ${buf}\n`);
    if (r.value >= UINT32_MAX) g.fail(`xl: irq ${r.value.toString(16)} too big\n`);
    d.b_info.irqs.push(Number(r.value));
  }
}

// parse_config_data: mca_caps (HVM)
export function parseMcaCaps(g: XlGetters, d: DomainConfig): void {
  const list = g.config.getList('mca_caps', true);
  if (list === ESRCH) return;
  if (typeof list === 'number') g.fail('ERROR: unable to parse mca_caps.\n', 3);
  for (const v of list as Exclude<typeof list, number>) {
    if (v.kind !== 'string') xlCrashes(g, 'a list inside mca_caps=');
    const buf = (v as { value: string }).value;
    if (buf !== 'lmce') g.fail(`ERROR: unrecognized MCA capability '${buf}'.\n`, 3);
    d.b_info.hvm.mca_caps |= MCA_CAP_LMCE;
  }
}

// parse_config_data: gic_version, tee (both read without libxlu's warnings)
export function parseArmAndTee(g: XlGetters, d: DomainConfig): void {
  let buf = g.str('gic_version', true);
  if (buf !== null) {
    const v = enumFromString(['default', 'v2', 'v3'], buf);
    if (v === null) g.fail(`Unknown gic_version "${buf}" specified\n`, 3);
    d.b_info.gic_version = v!;
  }
  buf = g.str('tee', true);
  if (buf !== null) {
    const v = enumFromString(['none', 'optee'], buf);
    if (v === null) g.fail(`Unknown tee "${buf}" specified\n`, 3);
    d.b_info.tee = v!;
  }
}
