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
