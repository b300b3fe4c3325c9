/**
 * The libxlu getters as parse_config_data calls them, each returning null where xl's `if
 * (!xlu_cfg_get_...)` would skip (the getter has already printed any warning), plus xl's
 * exit-with-message.
 */

import type { Defbool } from '../libxl/types/disk.js';
import { strtokAll } from '../util/cstr.js';
import { ESRCH, listItem, type XluConfig } from '../xlu/cfg/settings.js';
import { XlExit } from './exit.js';

export class XlGetters {
  /** What this parse has printed, for the XlExit it may end in (gone with the parse). */
  readonly #printed: string[] = [];
  /** fprintf(stderr, text), kept for the report of a later exit. */
  readonly err: (text: string) => void;

  constructor(readonly config: XluConfig, stderr: (text: string) => void) {
    this.err = (text) => {
      this.#printed.push(text);
      stderr(text);
    };
  }

  /** What has been printed so far. */
  report(): string {
    return this.#printed.join('');
  }

  /** exit(status), with what was printed as the XlExit's report. */
  exit(status: number): never {
    throw new XlExit(status, this.report());
  }

  /** fprintf(stderr, msg); exit(status) */
  fail(msg: string, status = 1): never {
    this.err(msg);
    this.exit(status);
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

/**
 * parse_config_data's `for (i = 0; (buf = xlu_cfg_get_listitem(list, i)); i++)` over the list
 * `key`: each string item with its index, up to the first item that is not a string.
 */
export function eachListItem(g: XlGetters, key: string, each: (item: string, index: number) => void): void {
  const list = g.config.getList(key);
  if (typeof list === 'number') return;
  for (let i = 0; ; i++) {
    const item = listItem(list, i);
    if (item === null) break;
    each(item, i);
  }
}

/** The key=value pairs of one item, stopping (as xl's loops do) at the first token without "=". */
export function keyValuePairs(spec: string): [string, string][] {
  const out: [string, string][] = [];
  for (const { token } of strtokAll(spec, ',')) {
    const p = token.replace(/^ +/, '');
    const eq = p.indexOf('=');
    if (eq < 0) break;
    out.push([p.slice(0, eq), p.slice(eq + 1)]);
  }
  return out;
}

/** How parse_config_data reads one key into a field: xlu_cfg_get_defbool, _get_long (to int) or replace_string. */
export type KeyRead = 'defbool' | 'int' | 'string';

/**
 * A run of keys read the same three ways into one struct, in xl's order: `[how, xl.cfg key,
 * field]`. A key that is absent (or refused by its getter) leaves its field as it was.
 */
export function readKeys<T>(g: XlGetters, target: T, keys: readonly (readonly [KeyRead, string, Extract<keyof T, string>])[]): void {
  const t = target as Record<string, unknown>;
  for (const [how, key, field] of keys) {
    if (how === 'defbool') t[field] = g.defbool(key, t[field] as Defbool);
    else if (how === 'string') t[field] = g.replace(key, t[field] as string | null);
    else {
      const l = g.long(key);
      if (l !== null) t[field] = toInt(l);
    }
  }
}
