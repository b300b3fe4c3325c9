/**
 * xenstore throughput, side by side in one run: 10,000 reads and 10,000 writes through
 *  - our client, sequential (one request in flight) and pipelined (window 64),
 *  - Xen's libxenstore.so.4 through the koffi binding (synchronous C calls),
 * against Xen 4.17's real C xenstored (no-hypervisor shim) and against `colo-xl xenstored`
 * (its own process, like the C daemon), plus a unix-socket echo ping-pong as the floor.
 * Each figure is the best of three runs.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Xenstore } from '../lib/xenstore/api.js';
import { XsClient } from '../lib/xenstore/client.js';
import { UnixSocketTransport } from '../lib/xenstore/transport.js';
import { LibxenstoreClient } from '../lib/native/libxenstore.js';
import { startRealXenstored } from '../test/support/real-xenstored.js';
import { startCliDaemon } from '../test/xenstore/cli-daemon.js';

const N = 10_000;
const WINDOW = 64;

type Op = (i: number) => Promise<unknown>;

async function sequential(op: Op): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await op(i);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function pipelined(op: Op): Promise<number> {
  const t0 = process.hrtime.bigint();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < N) await op(next++);
  };
  await Promise.all(Array.from({ length: WINDOW }, lane));
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Ping-pong of a 32-byte message with an echo process: the cost of a round trip, nothing else. */
let echoRuns = 0;
async function echoFloor(dir: string): Promise<number> {
  const path = join(dir, `echo-${++echoRuns}`);
  const child = spawn(process.execPath, ['-e', `require('net').createServer(s=>s.on('error',()=>{}).pipe(s)).listen(${JSON.stringify(path)})`], { stdio: 'ignore' });
  const kill = (): void => void child.kill('SIGKILL');
  process.once('exit', kill);
  try {
    for (let i = 0; i < 200 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 25));
    const sock = connect(path);
    sock.on('error', () => undefined);
    await new Promise((r) => sock.once('connect', r));
    sock.setNoDelay(true);
    const msg = Buffer.alloc(32, 7);
    let wake: (() => void) | undefined;
    let got = 0;
    sock.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= msg.length) {
        got -= msg.length;
        wake?.();
      }
    });
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      await new Promise<void>((r) => {
        wake = r;
        sock.write(msg);
      });
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    sock.destroy();
    return ms;
  } finally {
    process.off('exit', kill);
    child.kill('SIGKILL');
  }
}

interface Row {
  server: string;
  client: string;
  readMs: number;
  writeMs: number;
}

async function measure(server: string, client: string, xs: Xenstore, mode: (op: Op) => Promise<number>): Promise<Row> {
  const base = `/bench/${client.replace(/\W+/g, '-')}`;
  // Warm both paths (JIT, allocator) before timing anything.
  for (let i = 0; i < 2000; i++) await xs.write(`${base}/${i % 100}`, `warm-${i}`);
  for (let i = 0; i < 2000; i++) await xs.read(`${base}/${i % 100}`);
  // Best of three: the machine is shared, and only the least disturbed run says what the code costs.
  let writeMs = Infinity;
  let readMs = Infinity;
  for (let rep = 0; rep < 3; rep++) {
    writeMs = Math.min(writeMs, await mode((i) => xs.write(`${base}/${i % 100}`, `value-${i}`)));
    readMs = Math.min(readMs, await mode((i) => xs.read(`${base}/${i % 100}`)));
  }
  await xs.rm(base);
  return { server, client, readMs, writeMs };
}

const opsPerSec = (ms: number): number => Math.round((N / ms) * 1000);

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'colo-xl-bench-'));
  const real = await startRealXenstored();
  const emb = await startCliDaemon(join(dir, 'embedded.sock'));
  const rows: Row[] = [];
  try {
    const floorMs = Math.min(await echoFloor(dir), await echoFloor(dir), await echoFloor(dir));
    for (const [server, socket] of [
      ['C xenstored', real.socketPath],
      ['embedded', emb.socket],
    ] as const) {
      const ours = new XsClient(await UnixSocketTransport.connect(socket));
      rows.push(await measure(server, 'colo-xl sequential', ours, sequential));
      rows.push(await measure(server, 'colo-xl pipelined/64', ours, pipelined));
      await ours.close();
      // libxenstore reads its socket from the environment: this program's to set
      process.env.XENSTORED_PATH = socket;
      const lib = LibxenstoreClient.open();
      rows.push(await measure(server, 'libxenstore', lib, sequential));
      await lib.close();
    }
    console.log(`${N} ops each; ops/s (higher is better). Unix-socket echo ping-pong floor: ${opsPerSec(floorMs)} round trips/s`);
    console.log(`${'server'.padEnd(13)}${'client'.padEnd(22)}${'read/s'.padStart(10)}${'write/s'.padStart(10)}`);
    for (const r of rows) console.log(`${r.server.padEnd(13)}${r.client.padEnd(22)}${String(opsPerSec(r.readMs)).padStart(10)}${String(opsPerSec(r.writeMs)).padStart(10)}`);
    const get = (server: string, client: string): Row => rows.find((r) => r.server === server && r.client === client)!;
    const ratio = (a: number, b: number): string => (a / b).toFixed(2);
    for (const server of ['C xenstored', 'embedded']) {
      const lib = get(server, 'libxenstore');
      const seq = get(server, 'colo-xl sequential');
      const pipe = get(server, 'colo-xl pipelined/64');
      console.log(
        `${server}: pipelined/libxenstore read ${ratio(lib.readMs, pipe.readMs)}x write ${ratio(lib.writeMs, pipe.writeMs)}x (target >= 3); ` +
          `sequential/libxenstore read ${ratio(lib.readMs, seq.readMs)}x write ${ratio(lib.writeMs, seq.writeMs)}x (target >= 0.67)`,
      );
    }
    for (const client of ['colo-xl sequential', 'colo-xl pipelined/64', 'libxenstore']) {
      const c = get('C xenstored', client);
      const e = get('embedded', client);
      console.log(`embedded/C xenstored with ${client}: read ${ratio(c.readMs, e.readMs)}x write ${ratio(c.writeMs, e.writeMs)}x (target >= 1)`);
    }
    console.log(`sequential colo-xl on embedded vs echo floor: read ${ratio(floorMs, get('embedded', 'colo-xl sequential').readMs)}x of the floor's rate`);
  } finally {
    await emb.stop();
    await real.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
