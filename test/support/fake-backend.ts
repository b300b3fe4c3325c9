/**
 * Stands in for the backend driver (blkback or QEMU's qdisk) that a Xen host runs and this
 * machine cannot: it watches the backend directory and walks each device's state the way a
 * backend does — Initialising to Connected when a device appears, Closing to Closed when the
 * toolstack asks it to go.
 */
import type { Xenstore } from '../../lib/xenstore/api.js';

export interface FakeBackend {
  stop(): Promise<void>;
}

export async function startFakeBackend(xs: Xenstore, opts: { connect?: boolean; close?: boolean } = {}): Promise<FakeBackend> {
  const watch = await xs.watch('/local/domain/0/backend', 'fake-backend');
  let running = true;
  const loop = (async () => {
    for await (const ev of watch) {
      if (!running) break;
      if (!ev.path.endsWith('/state')) continue;
      const state = await xs.tryRead(ev.path);
      if (state === '1' && opts.connect !== false) await xs.write(ev.path, '4').catch(() => {});
      if (state === '5' && opts.close !== false) await xs.write(ev.path, '6').catch(() => {});
    }
  })();
  return {
    stop: async () => {
      running = false;
      await watch.close();
      await loop.catch(() => {});
    },
  };
}
