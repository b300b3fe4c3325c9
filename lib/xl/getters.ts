/**
 * The libxlu getters as parse_config_data calls them, each returning null where xl's `if
 * (!xlu_cfg_get_...)` would skip (the getter has already printed any warning), plus xl's
 * exit-with-message.
 */

import type { Defbool } from '../libxl/types/disk.js';
import { ESRCH, type XluConfig } from '../xlu/cfg/settings.js';
import { XlExit } from './exit.js';

export class XlGetters {
  constructor(readonly config: XluConfig, readonly err: (text: string) => void) {}

  /** fprintf(stderr, msg); exit(status) */
  fail(msg: string, status = 1): never {
    this.err(msg);
    throw new XlExit(status);
  }

  str(k: string, dontWarn = false): string | null {
    const v = this.config.getString(k, dontWarn);
    return typeof v === 'string' ? v : null;
  }

  long(k: string, dontWarn = false): bigint | null {
    const v = this.config.getLong(k, dontWarn);
    return typeof v === 'number' ? null : v.value;
  }

  /** xlu_cfg_get_bounded_long's errno (0 with the value, ESRCH, EINVAL or ERANGE). */
  bounded(k: string, min: bigint, max: bigint, dontWarn: boolean): { value: bigint } | number {
    return this.config.getBoundedLong(k, min, max, dontWarn);
  }

  /** xlu_cfg_get_defbool into `old`: the new value, or `old` when the getter fails. */
  defbool(k: string, old: Defbool, dontWarn = false): Defbool {
    const v = this.config.getDefbool(k, dontWarn);
    return typeof v === 'number' ? old : v;
  }

  /** Whether xlu_cfg_get_defbool succeeded, and its value. */
  defboolSet(k: string): boolean | null {
    const v = this.config.getDefbool(k);
    return typeof v === 'number' ? null : v;
  }

  /** xlu_cfg_replace_string: keeps the old value when the key is absent or not a string. */
  replace(k: string, old: string | null): string | null {
    return this.str(k) ?? old;
  }

  /**
   * xlu_cfg_get_list_as_string_list: the errno, or the list as libxl_string_list reads it (up to
   * the first item that is not a string, which became NULL).
   */
  stringList(k: string, dontWarn: boolean): string[] | number {
    const l = this.config.getListAsStringList(k, dontWarn);
    if (typeof l === 'number') return l;
    const end = l.indexOf(null);
    return (end < 0 ? l : l.slice(0, end)) as string[];
  }
}

export { ESRCH };

/** (int) of a long, as C assigns it to an int field. */
export const toInt = (v: bigint): number => Number(BigInt.asIntN(32, v));
/** (uint32_t) of a long. */
export const toU32 = (v: bigint): number => Number(BigInt.asUintN(32, v));
/** l * 1024 into a uint64_t. */
export const kb = (l: bigint): bigint => BigInt.asUintN(64, l * 1024n);

/** libxl's _from_string for an enum: strcasecmp over its names. */
export function enumFromString(names: readonly string[], s: string): string | null {
  const l = asciiLower(s);
  return names.find((n) => n === l) ?? null;
}

/** tolower in the C locale: ASCII letters only. */
export const asciiLower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
