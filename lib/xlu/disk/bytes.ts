/**
 * What libxlu's C interface does to the strings it is given: it sees C strings (each one ends at
 * its first NUL) and scans bytes. Here a "byte string" holds one UTF-16 unit per UTF-8 byte, so
 * the scanner's one-byte rules (the unknown-parameter quirk) take exactly what the C scanner takes.
 */

const ASCII = /^[\x00-\x7f]*$/;

/** Text to a byte string (UTF-8, one unit per byte). */
export function toBytes(s: string): string {
  return ASCII.test(s) ? s : Buffer.from(s, 'utf8').toString('latin1');
}

/** A byte string back to text; a lone piece of a multi-byte character becomes U+FFFD. */
export function fromBytes(s: string): string {
  return ASCII.test(s) ? s : Buffer.from(s, 'latin1').toString('utf8');
}

/**
 * The first `max` bytes of a byte string, ending before a UTF-8 character that would be cut
 * (so the shortened text decodes without a replacement character the original did not have).
 */
export function bytePrefix(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max;
  // back off over continuation bytes (10xxxxxx) to the lead byte, and drop that too
  while (end > 0 && (s.charCodeAt(end) & 0xc0) === 0x80) end--;
  return s.slice(0, end);
}
