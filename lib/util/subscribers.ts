/**
 * The callbacks one event source calls, each subscription returning its own unsubscriber: the
 * shape every colo-xl subscription has (heartbeat losses, HA reports, control-channel notices),
 * so that none can be added without a way to remove it.
 * @module
 */
export class Subscribers<T> {
  private readonly cbs = new Set<(value: T) => void>();

  /** Adds `cb`; the returned function removes it (twice is harmless). */
  add(cb: (value: T) => void): () => void {
    this.cbs.add(cb);
    return () => void this.cbs.delete(cb);
  }

  /** Calls every subscriber with `value`, in subscription order; one removed meanwhile is still called this time. */
  emit(value: T): void {
    for (const cb of [...this.cbs]) cb(value);
  }

  clear(): void {
    this.cbs.clear();
  }

  get size(): number {
    return this.cbs.size;
  }
}
