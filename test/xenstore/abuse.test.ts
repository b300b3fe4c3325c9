/**
 * Hostile clients against real daemons: `colo-xl xenstored` and Xen 4.17's C xenstored, each a
 * process of its own, each abuse on a fresh daemon so its peak memory is its own. The abuser
 * never reads its socket; meanwhile a well-behaved client must be served, and afterwards the
 * tree must pass `xenstore-control check` with the good client's data in place. Peak RSS of
 * both daemons is printed side by side; colo-xl's must stay within 256 MiB.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deafSocket, sampleRss } from './abuse-rig.js';
import { ABUSES, startDaemon, type Kind } from './abuse-scenarios.js';

const MiB = 1024 * 1024;
const LIMIT = 256 * MiB;

describe('xenstored under hostile clients: bounded memory, good clients served (colo-xl beside C 4.17)', function () {
  this.timeout(240_000);
  let dir: string;
  const table: string[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'colo-xl-abuse-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    if (table.length) process.stdout.write(`\n      peak memory (VmHWM) per abuse, fresh daemon each:\n${table.map((l) => `        ${l}\n`).join('')}`);
  });

  for (const { name, run: abuse, coloOnly } of ABUSES) {
    it(name, async () => {
      const peaks: Partial<Record<Kind, number>> = {};
      const notes: string[] = [];
      for (const kind of coloOnly ? (['colo-xl'] as const) : (['colo-xl', 'C 4.17'] as const)) {
        const d = await startDaemon(kind, dir);
        let deaf: Socket | undefined;
        try {
          const probe = sampleRss(d.pid);
          deaf = await deafSocket(d.socket);
          const served = await abuse(d.socket, deaf);
          const m = probe.stop();
          peaks[kind] = m.hwm;
          notes.push(`${kind}: ${served.ops} good round trips, slowest ${served.maxLatencyMs} ms`);
        } finally {
          deaf?.destroy();
          await d.stop();
        }
      }
      const mb = (b: number | undefined): string => `${((b ?? NaN) / MiB).toFixed(1)} MiB`;
      table.push(`${name.padEnd(34)} colo-xl ${mb(peaks['colo-xl']).padStart(10)}   C ${(coloOnly ? 'not run' : mb(peaks['C 4.17'])).padStart(10)}   (${notes.join('; ')})`);
      assert.ok(peaks['colo-xl']! <= LIMIT, `colo-xl xenstored peaked at ${mb(peaks['colo-xl'])} (limit 256 MiB)`);
    });
  }
});
