/**
 * A parsed xl.cfg (libxlu's XLU_Config): the settings in file order plus libxlu's typed getters,
 * which print the same warnings to the report stream as libxlu_cfg.c does.
 */

import { strtol } from '../../util/cstr.js';
import { CfgParseContext, EINVAL } from './lexer.js';

export type CfgValue =
  | { kind: 'string'; value: string; line: number }
  | { kind: 'list'; values: CfgValue[]; line: number };

export interface Assignment {
  name: string;
  op: '=' | '+=';
  /** null when libxlu had already recorded an error and stopped building values. */
  value: CfgValue | null;
  /** Line of the value's first token (XLU_ConfigSetting.lineno). */
  line: number;
}

export interface CfgSetting {
  name: string;
  op: '=' | '+=';
  value: CfgValue;
  line: number;
}

export const ESRCH = 3;
export const ERANGE = 34;

const LONG_MAX = 2n ** 63n - 1n;
const LONG_MIN = -(2n ** 63n);

export class XluConfig {
  // libxlu keeps one list, most recent first, and find() walks it from the head. Here the settings
  // are kept in file order with the most recent one of each name beside them, so that storing and
  // looking up cost the same however many lines a file has.
  private readonly inOrder: CfgSetting[] = [];
  private readonly latest = new Map<string, CfgSetting>();

  /** Where getters print their warnings (xl points libxlu's report stream at stderr). */
  report: (text: string) => void = () => undefined;

  constructor(readonly source: string) {}

  /** Every setting, most recent first, as libxlu lists them (a later assignment shadows an earlier one). */
  get settings(): CfgSetting[] {
    return this.inOrder.slice().reverse();
  }

  // xlu__cfg_set_store
  store(ctx: CfgParseContext, a: Assignment): void {
    if (ctx.err || a.value === null) return;
    let value = a.value;
    if (a.op === '+=') {
      const prev = this.find(a.name);
      if (prev) {
        // xlu__cfg_concat_vals
        if (prev.value.kind !== value.kind) {
          ctx.lexicalError('can\'t add [list] to "string" or vice versa');
          ctx.err = EINVAL;
          return;
        }
        if (value.kind === 'string' && prev.value.kind === 'string') {
          value = { ...value, value: prev.value.value + value.value };
        } else if (value.kind === 'list' && prev.value.kind === 'list') {
          // libxlu moves the items: the shadowed setting is left an empty list. Its array is taken
          // over and the new items appended, so repeated `+=` costs what it adds, not the total.
          const moved = prev.value.values;
          for (const v of value.values) moved.push(v);
          prev.value = { ...prev.value, values: [] };
          value = { ...value, values: moved };
        }
      }
    }
    const set: CfgSetting = { name: a.name, op: a.op, value, line: a.line };
    this.inOrder.push(set);
    this.latest.set(a.name, set);
  }

  // libxlu_cfg.c:find
  find(name: string): CfgSetting | undefined {
    return this.latest.get(name);
  }

  /** Every setting name, first occurrence order, for reporting keys colo-xl does not use. */
  names(): string[] {
    return [...new Set(this.inOrder.map((s) => s.name))];
  }

  // find_atom, and xlu_cfg_get_list's own check: the setting, ESRCH, or (warned) EINVAL when
  // it is a list where a single value is wanted or the other way round
  private findKind(name: string, kind: 'string' | 'list', dontWarn: boolean): CfgSetting | number {
    const set = this.find(name);
    if (!set) return ESRCH;
    if (set.value.kind !== kind) {
      if (!dontWarn) {
        const [is, want] = kind === 'string' ? ['a list', 'a single value'] : ['a single value', 'a list'];
        this.report(`${this.source}:${set.line}: warning: parameter \`${name}' is ${is} but should be ${want}\n`);
      }
      return EINVAL;
    }
    return set;
  }

  // xlu_cfg_get_string
  getString(name: string, dontWarn = false): string | number {
    const set = this.findKind(name, 'string', dontWarn);
    return typeof set === 'number' ? set : (set.value as { value: string }).value;
  }

  // xlu_cfg_get_bounded_long
  getBoundedLong(name: string, min: bigint, max: bigint, dontWarn = false): { value: bigint } | number {
    const set = this.findKind(name, 'string', dontWarn);
    if (typeof set === 'number') return set;
    const w = (msg: string): void => {
      if (!dontWarn) this.report(`${this.source}:${set.line}: warning: ${msg}\n`);
    };
    if (set.op === '+=') {
      w(`can't use += with numbers for parameter \`${name}'`);
      return EINVAL;
    }
    const str = (set.value as { value: string }).value;
    const r = strtol(str, 0);
    if (r.erange) {
      w(`parameter \`${name}' could not be parsed as a number: Numerical result out of range`);
      return ERANGE;
    }
    if (r.end !== str.length || r.end === 0) {
      w(`parameter \`${name}' is not a valid number`);
      return EINVAL;
    }
    if (r.value < min) {
      w(`value \`${r.value}' is smaller than minimum bound '${min}'`);
      return EINVAL;
    }
    if (r.value > max) {
      w(`value \`${r.value}' is greater than maximum bound '${max}'`);
      return EINVAL;
    }
    return { value: r.value };
  }

  // xlu_cfg_get_long
  getLong(name: string, dontWarn = false): { value: bigint } | number {
    return this.getBoundedLong(name, LONG_MIN, LONG_MAX, dontWarn);
  }

  // xlu_cfg_get_defbool
  getDefbool(name: string, dontWarn = false): boolean | number {
    const r = this.getLong(name, dontWarn);
    return typeof r === 'number' ? r : r.value !== 0n;
  }

  // xlu_cfg_get_list
  getList(name: string, dontWarn = false): CfgValue[] | number {
    const set = this.findKind(name, 'list', dontWarn);
    return typeof set === 'number' ? set : (set.value as { values: CfgValue[] }).values;
  }

  // xlu_cfg_get_list_as_string_list: non-string items become NULL.
  getListAsStringList(name: string, dontWarn = false): (string | null)[] | number {
    const list = this.getList(name, dontWarn);
    return typeof list === 'number' ? list : list.map((v) => (v.kind === 'string' ? v.value : null));
  }
}

/** xlu_cfg_get_listitem: the string at `i`, or null for a nested list or past the end. */
export function listItem(list: CfgValue[], i: number): string | null {
  const v = list[i];
  return v && v.kind === 'string' ? v.value : null;
}

