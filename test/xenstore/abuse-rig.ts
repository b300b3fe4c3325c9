/**
 * Hostile xenstore clients for the abuse tests: raw sockets that send and never read, and the
 * RSS probe that watches a daemon while they do.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { joinStrings, type Packet } from '../../lib/xenstore/messages.js';
import { serializePacket } from '../../lib/xenstore/serializer.js';

/** VmHWM and VmRSS of a process, in bytes. */
export function memoryOf(pid: number): { hwm: number; rss: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
}

/** Samples VmRSS every `ms` until stopped; VmHWM is the kernel's own peak. */
export function sampleRss(pid: number, ms = 100): { stop(): { peakRss: number; hwm: number } } {
  let peak = 0;
  const t = setInterval(() => {
    try {
      peak = Math.max(peak, memoryOf(pid).rss);
    } catch {
      // the process went away; the test notices elsewhere
    }
  }, ms);
  return {
    stop: () => {
      clearInterval(t);
      const m = memoryOf(pid);
      return { peakRss: Math.max(peak, m.rss), hwm: m.hwm };
    },
  };
}

/** A connected socket that never reads: the kernel buffers fill, then the daemon's queue. */
export async function deafSocket(path: string): Promise<Socket> {
  const s = connect(path);
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('error', reject);
  });
  s.on('error', () => undefined);
  s.pause();
  return s;
}

export function packet(type: number, args: string[], reqId = 0): Packet {
  return { type, reqId, txId: 0, payload: joinStrings(args) };
}

/**
 * Writes `count` packets made by `make`, a batch at a time, without ever reading; resolves when
 * the last has been handed to the kernel or `until` says stop (the daemon pushes back then).
 */
export async function pour(s: Socket, count: number, make: (i: number) => Packet, until: () => boolean): Promise<number> {
  let i = 0;
  while (i < count && !until() && !s.destroyed) {
    const batch: Buffer[] = [];
    for (let k = 0; k < 500 && i < count; k++, i++) batch.push(serializePacket(make(i)));
    if (!s.write(Buffer.concat(batch))) {
      await new Promise<void>((resolve) => {
        const t = setInterval(() => {
          if (until() || s.destroyed || s.writableLength === 0) {
            clearInterval(t);
            resolve();
          }
        }, 20);
      });
    }
  }
  return i;
}
