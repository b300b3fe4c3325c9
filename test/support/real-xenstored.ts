/**
 * Starts Xen 4.17's real C xenstored without a hypervisor, as an oracle for differential tests.
 * The daemon runs under test/support/xen-shims/xs-nohv-shim.c (LD_PRELOAD), which this module
 * compiles once per content hash into os.tmpdir()/colo-xl-shims.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XsClient } from '../../lib/xenstore/client.js';
import { UnixSocketTransport } from '../../lib/xenstore/transport.js';
import { requireFile } from './require-tool.js';

export const XENSTORED_BIN = '/usr/lib/xen-4.17/bin/xenstored';
const here = dirname(fileURLToPath(import.meta.url));

export interface RealXenstored {
  socketPath: string;
  rundir: string;
  pid: number;
  /** Makes the shim report `domid` as gone (xc_domain_getinfo finds nothing) from now on. */
  markDomainDead(domid: number): void;
  /**
   * INTRODUCEs `domid` (as dom0, over the socket) and says where its side of the ring is: the
   * shim maps the domain's ring page from a file and takes notifications through a FIFO.
   * Introducing an introduced domain again rebinds its channel and empties its ring.
   */
  introduceDomain(domid: number): Promise<DomainRing>;
  /** Fires the domain-exception VIRQ, so the daemon releases the domains markDomainDead named. */
  raiseDomainException(): void;
  /** What the daemon printed so far (its stdout+stderr), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** A guest's side of its xenstore connection under the shim (see xs-nohv-shim.c). */
export interface DomainRing {
  domid: number;
  /** The file the daemon maps as the domain's ring page (struct xenstore_domain_interface). */
  ringPath: string;
  /** The FIFO standing in for the event channel: write the 4-byte local port to notify. */
  evtchnPath: string;
  /** The daemon's local port for the domain's channel. */
  port: number;
}

/** Compiles a shim from test/support/xen-shims into the cache unless an identical build exists. */
export function buildShim(name: string): string {
  requireFile('/usr/bin/gcc', 'gcc');
  requireFile('/usr/include/xenctrl.h', 'libxen-dev');
  const src = join(here, 'xen-shims', `${name}.c`);
  const text = readFileSync(src);
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const cache = join(tmpdir(), 'colo-xl-shims');
  mkdirSync(cache, { recursive: true });
  const out = join(cache, `${name}-${hash}.so`);
  if (existsSync(out)) return out;
  // Build under a private name, then rename: concurrent test processes never see a half-written .so.
  const partial = `${out}.${process.pid}.tmp`;
  const r = spawnSync('gcc', ['-shared', '-fPIC', '-O2', '-Wall', '-o', partial, src, '-ldl'], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`compiling ${src} failed:\n${r.stderr}`);
  renameSync(partial, out);
  return out;
}

/** Sends DIRECTORY "/" (type 1) and resolves once a full 16-byte reply header comes back. */
function probe(socketPath: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(socketPath);
    let got = 0;
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('error', () => done(false));
    sock.on('connect', () => {
      const body = Buffer.from('/\0');
      const head = Buffer.alloc(16);
      head.writeUInt32LE(1, 0);
      head.writeUInt32LE(0x7e57, 4);
      head.writeUInt32LE(0, 8);
      head.writeUInt32LE(body.length, 12);
      sock.write(Buffer.concat([head, body]));
    });
    sock.on('data', (d) => {
      got += d.length;
      if (got >= 16) done(true);
    });
  });
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

export interface RealXenstoredOptions {
  /** Extra xenstored options. */
  args?: string[];
  /**
   * Keep a trace log (-T rundir/trace.log). Off by default: C xenstored writes its trace a
   * character at a time, which makes it several times slower.
   */
  trace?: boolean;
}

/** Starts a fresh C xenstored on its own rundir; resolves when its socket answers a request. */
export async function startRealXenstored(opts: RealXenstoredOptions = {}): Promise<RealXenstored> {
  requireFile(XENSTORED_BIN, 'xen-utils-4.17');
  const shim = buildShim('xs-nohv-shim');
  const rundir = mkdtempSync(join(tmpdir(), 'colo-xl-xenstored-'));
  const socketPath = join(rundir, 'socket');
  let log = '';
  const args = ['-N', ...(opts.trace ? ['-T', join(rundir, 'trace.log')] : []), ...(opts.args ?? [])];
  const child = spawn(XENSTORED_BIN, args, {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      XENSTORED_RUNDIR: rundir,
      XS_SHIM_DIR: rundir,
      LD_PRELOAD: shim,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  // Even if this process dies without running the caller's cleanup, the daemon goes with it.
  const onExit = (): void => void child.kill('SIGKILL');
  process.once('exit', onExit);
  const stop = async (): Promise<void> => {
    process.off('exit', onExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if (!(await waitExit(child, 2000))) {
        child.kill('SIGKILL');
        await waitExit(child, 2000);
      }
    }
    rmSync(rundir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`xenstored exited early (${child.exitCode ?? child.signalCode}):\n${log}`);
    }
    if (existsSync(socketPath) && (await probe(socketPath, 1000))) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`xenstored did not answer on ${socketPath} within 10 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    socketPath,
    rundir,
    pid: child.pid ?? -1,
    markDomainDead: (domid) => appendFileSync(join(rundir, 'dead-domids'), `${domid}\n`),
    introduceDomain: async (domid) => {
      const xs = new XsClient(await UnixSocketTransport.connect(socketPath), { timeoutMs: 5000 });
      try {
        // Any mfn and port will do: the shim ignores both.
        await xs.introduce(domid, 0, 1);
      } finally {
        await xs.close();
      }
      const port = Number(readFileSync(join(rundir, `port-${domid}`), 'utf8'));
      return { domid, ringPath: join(rundir, `ring-${domid}`), evtchnPath: join(rundir, 'evtchn'), port };
    },
    raiseDomainException: () => {
      const port = Buffer.alloc(4);
      port.writeUInt32LE(Number(readFileSync(join(rundir, 'port-virq'), 'utf8')));
      writeFileSync(join(rundir, 'evtchn'), port, { flag: 'a' });
    },
    output: () => log,
    stop,
  };
}
