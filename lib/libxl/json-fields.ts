/** The field writers of libxl's generated *_gen_json: each omits its field at the IDL default. */

import { YajlGen } from '../json/yajl.js';
import { MEMKB_DEFAULT } from './types/domain-config.js';

export type Gen = YajlGen;

export function str(g: Gen, key: string, v: string | null): void {
  if (v !== null) g.string(key).string(v);
}
export function int(g: Gen, key: string, v: number | bigint, dflt: number | bigint = 0): void {
  if (v !== dflt && BigInt(v) !== BigInt(dflt)) g.string(key).integer(v);
}
export function defbool(g: Gen, key: string, v: boolean | null): void {
  if (v !== null) g.string(key).defbool(v);
}
export function memkb(g: Gen, key: string, v: bigint): void {
  if (v !== MEMKB_DEFAULT) g.string(key).integer(v);
}
export function enumv(g: Gen, key: string, v: string, dflt: string): void {
  if (v !== dflt) g.string(key).string(v);
}
/** A libxl_bitmap: its set bits, omitted when none is set. */
export function bitmap(g: Gen, key: string, bits: Iterable<number> | null): void {
  const sorted = bits === null ? [] : [...bits].sort((a, b) => a - b);
  if (sorted.length === 0) return;
  g.string(key).arrayOpen();
  for (const i of sorted) g.integer(i);
  g.arrayClose();
}
/** A libxl_string_list: omitted when empty. */
export function stringList(g: Gen, key: string, v: string[] | null): void {
  if (!v || v.length === 0) return;
  g.string(key).arrayOpen();
  for (const s of v) g.string(s);
  g.arrayClose();
}
/** An array element's struct. */
export function element(g: Gen, body: () => void): void {
  g.mapOpen();
  body();
  g.mapClose();
}
/** A nested struct: always present, even empty. */
export function struct(g: Gen, key: string, body: () => void): void {
  g.string(key).mapOpen();
  body();
  g.mapClose();
}

type FieldKind = 'str' | 'int' | 'defbool' | 'memkb' | 'bitmap' | 'strings' | 'enum';
type Key<T> = Extract<keyof T, string>;

/**
 * One field of a struct's gen_json, as the IDL lists it: `<kind> <field>` or, for an int or enum
 * whose default is not 0, `<kind> <field>=<default>`. A list of them in IDL order is the whole
 * generated function for a flat struct.
 */
export type FieldSpec<T> = `${FieldKind} ${Key<T>}` | `${'int' | 'enum'} ${Key<T>}=${string}`;

/** Writes `obj`'s fields as the IDL's generated *_gen_json does, each omitted at its default. */
export function fields<T>(g: Gen, obj: T, specs: readonly FieldSpec<T>[]): void {
  const values = obj as Record<string, unknown>;
  for (const spec of specs) {
    const [kind, field] = spec.split(' ') as [FieldKind, string];
    const [key, dflt] = field.split('=') as [string, string | undefined];
    const v = values[key];
    switch (kind) {
      case 'str': str(g, key, v as string | null); break;
      case 'int': int(g, key, v as number | bigint, dflt === undefined ? 0 : BigInt(dflt)); break;
      case 'defbool': defbool(g, key, v as boolean | null); break;
      case 'memkb': memkb(g, key, v as bigint); break;
      case 'bitmap': bitmap(g, key, v as Iterable<number> | null); break;
      case 'strings': stringList(g, key, v as string[] | null); break;
      case 'enum': enumv(g, key, v as string, dflt ?? ''); break;
    }
  }
}
