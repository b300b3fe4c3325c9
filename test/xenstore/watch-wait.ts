import { WaitTimeoutError } from '../../lib/errors.js';
import type { WatchEvent, XsWatch } from '../../lib/xenstore/api.js';

/** The next event of `w` within `ms`, or undefined when none comes by then (or the watch closed). */
export async function eventWithin(w: XsWatch, ms: number): Promise<WatchEvent | undefined> {
  try {
    return await w.next({ timeoutMs: ms });
  } catch (e) {
    if (e instanceof WaitTimeoutError) return undefined;
    throw e;
  }
}
