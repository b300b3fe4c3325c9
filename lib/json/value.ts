import { YajlGen } from './yajl.js';

/** A parsed JSON value, keys in document order. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

function gen(g: YajlGen, v: JsonValue): void {
  if (v === null) g.null();
  else if (typeof v === 'boolean') g.bool(v);
  else if (typeof v === 'number') g.raw(String(v));
  else if (typeof v === 'string') g.string(v);
  else if (Array.isArray(v)) {
    g.arrayOpen();
    for (const x of v) gen(g, x);
    g.arrayClose();
  } else {
    g.mapOpen();
    for (const [k, x] of Object.entries(v)) {
      g.string(k);
      gen(g, x);
    }
    g.mapClose();
  }
}

/**
 * Prints a JSON document the way libxl's yajl generator does, so a configuration libxl saved can
 * be read, changed and written back in the same form.
 */
export function yajlStringify(v: JsonValue): string {
  const g = new YajlGen();
  gen(g, v);
  return g.result();
}
