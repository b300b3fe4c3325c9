/**
 * Immutable sequences built by appending (one cell per item, sharing the prefix), for the
 * actions of grammar/xlcfg.ne: nearley keeps the data of every state it completes, so an action
 * that copied an array on each append would make a long list cost quadratic time and memory.
 */

/** A sequence under construction, last item outermost; null is the empty sequence. */
export type Snoc<T> = { readonly init: Snoc<T>; readonly last: T } | null;

export function snoc<T>(init: Snoc<T>, last: T): Snoc<T> {
  return { init, last };
}

/** The items in order; linear in the length, without recursion. */
export function snocToArray<T>(seq: Snoc<T>): T[] {
  let n = 0;
  for (let s = seq; s !== null; s = s.init) n++;
  const out = new Array<T>(n);
  for (let s = seq; s !== null; s = s.init) out[--n] = s.last;
  return out;
}
