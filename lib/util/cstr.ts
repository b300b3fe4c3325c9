/**
 * glibc's number and token scanners as xl and libxl call them on config strings (LP64):
 * strtol/strtoul with the base given, atoi, strtok's splitting and isspace trimming. The one copy
 * of each in colo-xl.
 */

const ULONG_MAX = 2n ** 64n - 1n;
const LONG_MAX = 2n ** 63n - 1n;
const LONG_MIN = -LONG_MAX - 1n;
const SPACE = ' \t\n\v\f\r';

export type StrtoBase = 0 | 8 | 10 | 16;

/** A strtol/strtoul result: `end` is ep's index (0: nothing converted), `erange` errno == ERANGE. */
export interface StrtoResult {
  value: bigint;
  end: number;
  erange: boolean;
}

/**
 * What strtol and strtoul share (glibc's ____strtol_l_internal): blanks, a sign, base 0's 0x / 0
 * prefixes (0x only with a hex digit after it), then digits. The magnitude is exact; each caller
 * clamps it its own way.
 */
function scanInteger(s: string, base: StrtoBase): { negative: boolean; magnitude: bigint; end: number } {
  let i = 0;
  while (i < s.length && SPACE.includes(s[i]!)) i++;
  let negative = false;
  if (s[i] === '+' || s[i] === '-') negative = s[i++] === '-';
  let b: number = base;
  const hexPrefix = s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && /[0-9a-fA-F]/.test(s[i + 2] ?? '');
  if ((b === 0 || b === 16) && hexPrefix) {
    b = 16;
    i += 2;
  } else if (b === 0) {
    b = s[i] === '0' ? 8 : 10;
  }
  const start = i;
  let magnitude = 0n;
  for (; i < s.length; i++) {
    const d = parseInt(s[i]!, 36);
    if (Number.isNaN(d) || d >= b) break;
    magnitude = magnitude * BigInt(b) + BigInt(d);
  }
  return { negative, magnitude, end: i === start ? 0 : i };
}

/** strtoul(s, &ep, base) on LP64: the value modulo 2^64 as glibc returns it (a '-' negates it). */
export function strtoul(s: string, base: StrtoBase): StrtoResult {
  const { negative, magnitude, end } = scanInteger(s, base);
  if (end === 0) return { value: 0n, end: 0, erange: false };
  if (magnitude > ULONG_MAX) return { value: ULONG_MAX, end, erange: true };
  return { value: negative ? BigInt.asUintN(64, -magnitude) : magnitude, end, erange: false };
}

/** strtol(s, &ep, base) on LP64: saturates at LONG_MIN / LONG_MAX with ERANGE. */
export function strtol(s: string, base: StrtoBase): StrtoResult {
  const { negative, magnitude, end } = scanInteger(s, base);
  if (end === 0) return { value: 0n, end: 0, erange: false };
  const v = negative ? -magnitude : magnitude;
  if (v > LONG_MAX) return { value: LONG_MAX, end, erange: true };
  if (v < LONG_MIN) return { value: LONG_MIN, end, erange: true };
  return { value: v, end, erange: false };
}

/** atoi: (int)strtol(s, NULL, 10), the saturated long cut to its low 32 bits. */
export function atoi(s: string): number {
  return Number(BigInt.asIntN(32, strtol(s, 10).value));
}

/** strtok's tokens: runs of characters not in `delims`, each with the index where it starts. */
export function strtokAll(s: string, delims: string): { token: string; start: number }[] {
  const out: { token: string; start: number }[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && delims.includes(s[i]!)) i++;
    if (i >= s.length) break;
    const start = i;
    while (i < s.length && !delims.includes(s[i]!)) i++;
    out.push({ token: s.slice(start, i), start });
  }
  return out;
}

/** xl_parse.c:trim with isspace (the C locale). */
export function trimSpace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && SPACE.includes(s[a]!)) a++;
  while (b > a && SPACE.includes(s[b - 1]!)) b--;
  return s.slice(a, b);
}

/**
 * The string as a C function receives it: everything up to, not including, the first NUL. A
 * `const char *` cannot carry one (C's strlen stops there), so libxl and libxlu never see what
 * follows.
 */
export function cString(s: string): string {
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
}
