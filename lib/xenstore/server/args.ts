/** Argument parsing the way C xenstored's handlers do it. */
import { XsError, type Packet } from '../messages.js';

/** Exactly one NUL-terminated string and nothing after it (C's onearg), else EINVAL. */
export function oneArg(p: Packet, op: string): string {
  const nul = p.payload.indexOf(0);
  if (p.payload.length === 0 || nul !== p.payload.length - 1) throw new XsError('EINVAL', op);
  return p.payload.toString('utf8', 0, nul);
}

/** The payload's NUL-terminated strings as latin1 (one char per byte), for tokens echoed verbatim. */
export function splitBinary(payload: Buffer): string[] {
  const out: string[] = [];
  let start = 0;
  for (let nul = payload.indexOf(0); nul >= 0; nul = payload.indexOf(0, start)) {
    out.push(payload.toString('latin1', start, nul));
    start = nul + 1;
  }
  return out;
}
