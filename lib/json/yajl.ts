/**
 * A JSON generator that writes exactly what yajl 2's yajl_gen writes with yajl_gen_beautify (the
 * text Xen 4.17's libxl prints for `xl -N`, `xl list -l` and saved configs): 4-space indent,
 * `"key": value`, empty containers as an opening bracket, a blank line and the closing bracket,
 * `/` left alone, a final newline after the top-level value.
 */

import { ColoXlError } from '../errors.js';

/**
 * A call yajl_gen refuses (its yajl_gen_status): `status` is yajl's name for it, or `unbalanced`
 * for a close without its open, which yajl leaves undefined. A bug in the caller, never input.
 */
export class YajlGenError extends ColoXlError {
  constructor(readonly status: 'generation_complete' | 'keys_must_be_strings' | 'unbalanced', message: string) {
    super(`JSON_GEN_${status.toUpperCase()}`, `yajl_gen: ${message}`);
  }
}

type State = 'start' | 'map_start' | 'map_key' | 'map_val' | 'array_start' | 'in_array' | 'complete';

/** A string as yajl_string_encode writes it (no '/' escaping, non-ASCII passed through). */
export function yajlEncodeString(s: string): string {
  // One replace over the string rather than a concatenation per character: a value can be
  // megabytes long (an xl.cfg `extra` string), and per-character appends cost seconds of GC.
  // eslint-disable-next-line no-control-regex
  return '"' + s.replace(/["\\\x00-\x1f]/g, (ch) => YAJL_ESCAPES[ch] ?? `\\u00${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`) + '"';
}
const YAJL_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

export class YajlGen {
  private out = '';
  private readonly state: State[] = ['start'];

  constructor(
    private readonly beautify = true,
    private readonly indent = '    ',
  ) {}

  private get depth(): number {
    return this.state.length - 1;
  }

  private top(): State {
    return this.state[this.depth]!;
  }

  private insertSep(): void {
    const s = this.top();
    if (s === 'map_key' || s === 'in_array') this.out += this.beautify ? ',\n' : ',';
    else if (s === 'map_val') this.out += this.beautify ? ': ' : ':';
  }

  private insertWhitespace(): void {
    if (this.beautify && this.top() !== 'map_val') this.out += this.indent.repeat(this.depth);
  }

  private appended(): void {
    const s = this.top();
    const next: Partial<Record<State, State>> = {
      start: 'complete', map_start: 'map_val', map_key: 'map_val', map_val: 'map_key', array_start: 'in_array',
    };
    const n = next[s];
    if (n) this.state[this.depth] = n;
  }

  private finalNewline(): void {
    if (this.beautify && this.top() === 'complete') this.out += '\n';
  }

  private ensureValid(): void {
    if (this.top() === 'complete') throw new YajlGenError('generation_complete', 'generation already complete');
  }

  /** Writes an already-encoded JSON atom (number, string literal, true/false/null). */
  raw(atom: string): this {
    this.ensureValid();
    const s = this.top();
    if ((s === 'map_start' || s === 'map_key') && !atom.startsWith('"')) throw new YajlGenError('keys_must_be_strings', 'map keys must be strings');
    this.insertSep();
    this.insertWhitespace();
    this.out += atom;
    this.appended();
    this.finalNewline();
    return this;
  }

  string(s: string): this {
    return this.raw(yajlEncodeString(s));
  }

  /** yajl_gen_integer ("%lld"). */
  integer(n: number | bigint): this {
    return this.raw(typeof n === 'bigint' ? n.toString() : String(Math.trunc(n)));
  }

  bool(b: boolean): this {
    return this.raw(b ? 'true' : 'false');
  }

  null(): this {
    return this.raw('null');
  }

  /** libxl_defbool as libxl prints it: the strings "True" and "False". */
  defbool(b: boolean): this {
    return this.string(b ? 'True' : 'False');
  }

  mapOpen(): this {
    return this.open('map_start', '{');
  }

  mapClose(): this {
    return this.close('map', '}');
  }

  arrayOpen(): this {
    return this.open('array_start', '[');
  }

  arrayClose(): this {
    return this.close('array', ']');
  }

  // yajl_gen_map_open / yajl_gen_array_open
  private open(state: 'map_start' | 'array_start', bracket: string): this {
    this.ensureValid();
    this.insertSep();
    this.insertWhitespace();
    this.state.push(state);
    this.out += this.beautify ? `${bracket}\n` : bracket;
    return this;
  }

  // yajl_gen_map_close / yajl_gen_array_close
  private close(what: 'map' | 'array', bracket: string): this {
    if (this.depth === 0) throw new YajlGenError('unbalanced', `unbalanced ${what} close`);
    this.state.pop();
    if (this.beautify) this.out += '\n';
    this.appended();
    this.insertWhitespace();
    this.out += bracket;
    this.finalNewline();
    return this;
  }

  /** A key and its value in one call; `value` writes the value with this generator. */
  field(key: string, value: (g: this) => unknown): this {
    this.string(key);
    value(this);
    return this;
  }

  /** The text generated so far (yajl_gen_get_buf). */
  result(): string {
    return this.out;
  }
}
