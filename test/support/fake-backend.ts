/**
 * Stands in for the backend drivers a Xen host runs and this machine cannot. blkback (backend kind
 * vbd) moves a new device to InitWait and waits for its hotplug script's `physical-device` before
 * it connects; QEMU (qdisk) connects at once; both go from Closing to Closed when the toolstack
 * asks. `connect: false` leaves new devices in Initialising, `close: false` never closes.
 *
 * HOTPLUG_SCRIPT_DIR holds a `block` that answers libxl's hotplug call as the real script does
 * (see hotplug/block); give it as the libxl context's scriptDir.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Xenstore } from '../../lib/xenstore/api.js';

export const HOTPLUG_SCRIPT_DIR = join(dirname(fileURLToPath(import.meta.url)), 'hotplug');

export interface FakeBackend {
  stop(): Promise<void>;
}

export async function startFakeBackend(xs: Xenstore, opts: { connect?: boolean; close?: boolean } = {}): Promise<FakeBackend> {
  const watch = await xs.watch('/local/domain/0/backend', 'fake-backend');
  let running = true;
  const loop = (async () => {
    for await (const ev of watch) {
      if (!running) break;
      const dir = ev.path.slice(0, ev.path.lastIndexOf('/'));
      const blkback = dir.startsWith('/local/domain/0/backend/vbd/');
      if (ev.path.endsWith('/state')) {
        const state = await xs.tryRead(ev.path);
        if (state === '1' && opts.connect !== false) await xs.write(ev.path, blkback ? '2' : '4').catch(() => {});
        if (state === '5' && opts.close !== false) await xs.write(ev.path, '6').catch(() => {});
      } else if (blkback && ev.path.endsWith('/physical-device') && opts.connect !== false) {
        if ((await xs.tryRead(`${dir}/state`)) === '2') await xs.write(`${dir}/state`, '4').catch(() => {});
      }
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
