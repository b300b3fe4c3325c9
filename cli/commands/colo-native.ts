/**
 * `colo-xl colo --native <step>`: the QEMU-native COLO steps (seed 002) over the QMP sockets of
 * a primary and a secondary started for it (see native-args.ts): start, checkpoint, status,
 * failover on either side, resume from the survivor to a new secondary.
 */
import { QemuNativeColo } from '../../lib/colo/native.js';
import type { QMPClient } from '../../lib/qmp/client.js';
import { roundMs, type Output } from '../options.js';
import { pauseBetween, progressRecord, withColoClients, type ColoOptions } from './colo-common.js';

/**
 * How long a step waits for a checkpoint it asked for. Generous: QEMU's first checkpoint copies
 * the whole guest RAM, and a loaded host stretches it; a checkpoint that never comes (a dead
 * peer) ends the wait earlier through COLO_EXIT.
 */
export const CHECKPOINT_TIMEOUT_MS = 60_000;

export async function runNative(o: ColoOptions, out: Output): Promise<number> {
  return withColoClients(o, async (p, s) => {
    const colo = new QemuNativeColo(p, s, {
      disks: o.disks.map((d) => d.devid),
      nbd: o.nbd ?? { host: '127.0.0.1', port: 0 },
      migration: o.migration ?? { host: '127.0.0.1', port: 0 },
      checkpointDelayMs: o.delay,
    });
    switch (o.step) {
      case 'start': {
        await colo.probe();
        await colo.prepareSecondary();
        const ms = await colo.start();
        // protection counts from the first completed checkpoint (QemuNativeColo.checkpoint)
        const first = await colo.checkpoint({ delayMs: o.delay, timeoutMs: CHECKPOINT_TIMEOUT_MS });
        out.emit('result', { step: 'start', ms: roundMs(ms), firstCheckpointMs: roundMs(first.ms) }, `COLO running: both sides in COLO ${ms.toFixed(1)} ms after migrate, first checkpoint ${first.ms.toFixed(1)} ms later`);
        return 0;
      }
      case 'checkpoint':
        for (let i = 0; i < o.count; i++) {
          await pauseBetween(o, i);
          // returns once the secondary holds a checkpoint begun after the request
          const c = await colo.checkpoint({ delayMs: o.delay, timeoutMs: CHECKPOINT_TIMEOUT_MS });
          out.emit('checkpoint', { n: i + 1, requested: true, completed: true, ms: roundMs(c.ms) }, `checkpoint ${i + 1} done in ${c.ms.toFixed(1)} ms (x-checkpoint-delay ${o.delay} ms)`);
        }
        return 0;
      case 'status': {
        for (const [side, c] of [['primary', p], ['secondary', s]] as const) {
          if (!c) continue;
          const vm = await c.execute<{ status: string }>('query-status');
          const st = await colo.status(side);
          const mig = await c.execute<{ status?: string }>('query-migrate');
          out.emit(
            'status',
            { side, vm: vm.status, colo: st, migration: mig.status ?? null },
            `${side.padEnd(9)} vm ${vm.status}, COLO mode ${st.mode}${st['last-mode'] && st['last-mode'] !== 'none' ? ` (last ${st['last-mode']}, ${st.reason})` : ''}, migration ${mig.status ?? 'none'}`,
          );
        }
        return 0;
      }
      case 'failover': {
        const t = performance.now();
        const ev = o.side === 'secondary' ? await colo.failoverSecondary() : await colo.failoverPrimary();
        const ms = performance.now() - t;
        out.emit(
          'result',
          { step: 'failover', side: o.side, ms: roundMs(ms), coloExit: ev?.data ?? null },
          `${o.side} took over in ${ms.toFixed(1)} ms${ev ? ` (COLO_EXIT ${JSON.stringify(ev.data)})` : ' (it had already left COLO)'}`,
        );
        return 0;
      }
      default: {
        // a survivor that was a secondary has filter-rewriter rew0: new filters go before it
        const objects = await (p as QMPClient).execute<Array<{ name: string }>>('qom-list', { path: '/objects' });
        colo.primaryWasSecondary = objects.some((x) => x.name === 'rew0');
        const ms = await colo.resume(s as QMPClient, (pr) => progressRecord(out, pr));
        out.emit('result', { step: 'resume', ms: roundMs(ms) }, `COLO running again (${o.disks.length} disk(s))`);
        return 0;
      }
    }
  });
}
