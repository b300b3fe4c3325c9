/**
 * glibc's number and token scanners as xl calls them on config strings (LP64): strtoul/strtoull
 * with the base given, atoi, strtok's splitting and isspace trimming.
 */

const ULONG_MAX = 2n ** 64n - 1n;
const SPACE = ' \t\n\v\f\r';

/** strtoul(s, &ep, base): value modulo 2^64 as glibc returns it, `end` = ep's index (0: nothing converted). */
export function strtoul(s: string, base: 0 | 10 | 16): { value: bigint; end: number; erange: boolean } {
  let i = 0;
  while (i < s.length && SPACE.includes(s[i]!)) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') {
    neg = s[i] === '-';
    i++;
  }
  let b: number = base;
  const hexPrefix = s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && /[0-9a-fA-F]/.test(s[i + 2] ?? '');
  if ((b === 0 || b === 16) && hexPrefix) {
    b = 16;
    i += 2;
  } else if (b === 0) {
    b = s[i] === '0' ? 8 : 10;
  }
  const start = i;
  let v = 0n;
  for (; i < s.length; i++) {
    const d = parseInt(s[i]!, 36);
    if (Number.isNaN(d) || d >= b) break;
    v = v * BigInt(b) + BigInt(d);
  }
  if (i === start) return { value: 0n, end: 0, erange: false };
  if (v > ULONG_MAX) return { value: ULONG_MAX, end: i, erange: true };
  return { value: neg ? BigInt.asUintN(64, -v) : v, end: i, erange: false };
}

/** atoi: (int)strtol(s, NULL, 10). */
export function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)/.exec(s);
  if (!m) return 0;
  let v = BigInt(m[2]!);
  if (m[1] === '-') v = -v;
  const LONG_MAX = 2n ** 63n - 1n;
  if (v > LONG_MAX) v = LONG_MAX;
  if (v < -LONG_MAX - 1n) v = -LONG_MAX - 1n;
  return Number(BigInt.asIntN(32, v));
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

/** A C string ends at its first NUL. */
export const cString = (s: string): string => {
  const i = s.indexOf('\0');
  return i < 0 ? s : s.slice(0, i);
};
