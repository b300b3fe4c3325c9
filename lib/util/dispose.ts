/**
 * The one place colo-xl names the async-dispose symbol, so that `await using client = ...` works
 * on every resource that holds a socket, a process or a timer (QMPClient, EventListener,
 * QemuGroup, XsClient...). Node ≥ 20.19 defines `Symbol.asyncDispose`; the fallback is the key
 * Node itself used before the symbol was standard, so a resource disposes the same either way.
 * @module
 */

/** `Symbol.asyncDispose`, or Node's own registered key where the global is missing. */
export const asyncDispose: typeof Symbol.asyncDispose =
  (Symbol.asyncDispose as typeof Symbol.asyncDispose | undefined) ?? (Symbol.for('nodejs.asyncDispose') as typeof Symbol.asyncDispose);
