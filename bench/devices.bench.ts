/**
 * The disk device layer at scale: 4 disks attached to each of 250 domains, then all 1,000 listed
 * (libxl_device_disk_list for every domain), pipelined against one-round-trip-at-a-time, on the
 * embedded xenstored and on Xen's real C xenstored. Prints wall time and xenstore requests per
 * disk, and the ratios. Targets: list 1,000 disks in under 250 ms on the embedded store, and
 * pipelining at least 3× faster than sequential. "embedded" is colo-xl's xenstored over its
 * socket; "in-process" is what a colo-xl command uses when no daemon runs (no socket at all, so
 * there is no round trip for pipelining to save).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceDiskAdd, deviceDiskList } from '../lib/libxl/disk.js';
import { parseDiskSpec } from '../lib/xlu/disk/parse.js';
import { libxlCtx, type LibxlCtx } from '../lib/libxl/ctx.js';
import { domainMake } from '../lib/libxl/domain-make.js';
import type { Xenstore, XsOps } from '../lib/xenstore/api.js';
import { openXenstore } from '../lib/xenstore/open.js';
import { EmbeddedXenstored } from '../lib/xenstore/server/embedded.js';
import { startRealXenstored } from '../test/support/real-xenstored.js';

const DOMAINS = 250;
const DISKS = 4;

/** Counts the requests that reach the daemon (a transaction adds its start and end). */
function counting(xs: Xenstore): { xs: Xenstore; count: () => number } {
  let n = 0;
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(t, prop, recv) {
        const v = Reflect.get(t, prop, recv) as unknown;
        if (typeof v !== 'function') return v;
        if (prop === 'transaction') {
          return (fn: (tx: XsOps) => Promise<unknown>, opts?: object) =>
            (t as Xenstore).transaction((tx) => {
              n += 2;
              return fn(wrap(tx));
            }, opts);
        }
        if (prop === 'close' || prop === 'watch') return v.bind(t);
        return (...args: unknown[]) => {
          n++;
          return (v as (...a: unknown[]) => unknown).apply(t, args);
        };
      },
    });
  return { xs: wrap(xs), count: () => n };
}

const SPECS = (img: string): string[] => [
  `vdev=xvda,format=raw,target=${img}`,
  `vdev=xvdb,format=qcow2,target=${img}`,
  `vdev=hda,format=qcow2,colo,colo-host=127.0.0.1,colo-port=9000,colo-export=e1,active-disk=/a.qcow2,hidden-disk=/h.qcow2,target=${img}`,
  'vdev=hdc,devtype=cdrom',
];

interface Result {
  attachMsPerDisk: number;
  attachRequestsPerDisk: number;
  listMs: number;
  listRequestsPerDisk: number;
  listed: number;
}

async function runOnce(server: Server, dir: string, pipeline: boolean): Promise<Result> {
  const raw = server.client ? server.client() : await openXenstore({ env: { XENSTORED_PATH: server.socket }, mode: 'daemon' });
  const { xs, count } = counting(raw);
  const ctx: LibxlCtx = libxlCtx(xs, { userdataDir: join(dir, `ud-${pipeline}`), pipeline });
  const img = join(dir, 'd.img');
  const base = pipeline ? 1000 : 2000;
  try {
    for (let d = 0; d < DOMAINS; d++) {
      await domainMake(ctx, { domid: base + d, name: `g${base + d}`, uuid: `00000000-0000-4000-8000-${String(base + d).padStart(12, '0')}`, type: 'hvm' });
    }
    const specs = SPECS(img);
    let c0 = count();
    let t0 = performance.now();
    for (let d = 0; d < DOMAINS; d++) {
      for (const s of specs) await deviceDiskAdd(ctx, base + d, parseDiskSpec(s), { wait: false });
    }
    const attachMs = performance.now() - t0;
    const attachRequests = count() - c0;

    c0 = count();
    t0 = performance.now();
    let listed = 0;
    if (pipeline) {
      const lists = await Promise.all(Array.from({ length: DOMAINS }, (_, d) => deviceDiskList(ctx, base + d)));
      listed = lists.reduce((a, l) => a + l.length, 0);
    } else {
      for (let d = 0; d < DOMAINS; d++) listed += (await deviceDiskList(ctx, base + d)).length;
    }
    const listMs = performance.now() - t0;
    const n = DOMAINS * DISKS;
    return { attachMsPerDisk: attachMs / n, attachRequestsPerDisk: attachRequests / n, listMs, listRequestsPerDisk: (count() - c0) / n, listed };
  } finally {
    await raw.close();
  }
}

/** A daemon to measure against: over its socket, or (the embedded default) in-process. */
type Server = { socket: string; client?: () => Xenstore; stop(): Promise<void> };

/** A fresh daemon for every run, so neither mode inherits the other's 1,000 disks. */
const stores: [string, (dir: string) => Promise<Server>][] = [
  [
    'embedded',
    async (dir: string) => {
      const e = new EmbeddedXenstored();
      const socket = join(dir, `emb-${Date.now()}.sock`);
      await e.listen(socket);
      return { socket, stop: () => e.close() };
    },
  ],
  [
    'in-process',
    async () => {
      const e = new EmbeddedXenstored();
      return { socket: '', client: () => e.client(), stop: () => e.close() };
    },
  ],
  [
    'C xenstored',
    async () => {
      const x = await startRealXenstored();
      return { socket: x.socketPath, stop: () => x.stop() };
    },
  ],
];

async function fresh(start: (dir: string) => Promise<Server>, dir: string, pipeline: boolean): Promise<Result> {
  const server = await start(dir);
  try {
    return await runOnce(server, dir, pipeline);
  } finally {
    await server.stop();
  }
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'colo-xl-bench-dev-'));
  writeFileSync(join(dir, 'd.img'), '');
  console.log(`${DISKS} disks on each of ${DOMAINS} domains, then libxl_device_disk_list of all ${DOMAINS * DISKS}`);
  console.log('store         mode         attach ms/disk  req/disk   list all ms  req/disk');
  try {
    for (const [name, start] of stores) {
      const seq = await fresh(start, dir, false);
      const pip = await fresh(start, dir, true);
      for (const [mode, r] of [['sequential', seq], ['pipelined', pip]] as const) {
        console.log(
          `${name.padEnd(13)} ${mode.padEnd(12)} ${r.attachMsPerDisk.toFixed(3).padStart(14)} ${r.attachRequestsPerDisk.toFixed(1).padStart(9)} ${r.listMs.toFixed(1).padStart(12)} ${r.listRequestsPerDisk.toFixed(1).padStart(9)}`,
        );
        if (r.listed !== DOMAINS * DISKS) throw new Error(`listed ${r.listed} disks, expected ${DOMAINS * DISKS}`);
      }
      console.log(
        `${name}: pipelined/sequential speed-up: attach ${(seq.attachMsPerDisk / pip.attachMsPerDisk).toFixed(2)}×, list ${(seq.listMs / pip.listMs).toFixed(2)}×` +
          (name !== 'C xenstored' ? `; list of ${DOMAINS * DISKS} in ${pip.listMs.toFixed(0)} ms (target < 250 ms: ${pip.listMs < 250 ? 'met' : 'NOT met'})` : ''),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
