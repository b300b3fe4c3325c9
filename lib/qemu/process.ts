/**
 * Real qemu-system-x86_64 processes: loopback only, QMP on a unix socket in a given directory,
 * KVM when /dev/kvm works (else TCG), and teardown that ends exactly the processes started here
 * (QMP quit, then SIGTERM, then SIGKILL, each by pid). Used by the demo, the benchmark and tests.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { QMPClient } from '../qmp/client.js';

export const QEMU_BIN = '/usr/bin/qemu-system-x86_64';
export const QEMU_IMG = '/usr/bin/qemu-img';
export const QEMU_IO = '/usr/bin/qemu-io';

/** KVM if /dev/kvm opens read-write (COLO_XL_ACCEL=tcg|kvm overrides), else TCG. */
export function pickAccel(): 'kvm' | 'tcg' {
  const forced = process.env.COLO_XL_ACCEL;
  if (forced === 'kvm' || forced === 'tcg') return forced;
  try {
    closeSync(openSync('/dev/kvm', 'r+'));
    return 'kvm';
  } catch {
    return 'tcg';
  }
}

/** The machine arguments every test QEMU shares: Xen's `-machine xenfv` swapped for `pc`. */
export function commonArgs(accel = pickAccel()): string[] {
  return ['-machine', 'pc', '-accel', accel, '-nodefaults', '-no-user-config', '-display', 'none', '-m', '64', '-S'];
}

export function qemuImg(...args: string[]): string {
  const r = spawnSync(QEMU_IMG, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`qemu-img ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Offline qemu-io (read-only, shared lock) on an image file; returns its output. */
export function qemuIoOffline(image: string, cmd: string, format = 'qcow2'): string {
  const r = spawnSync(QEMU_IO, ['-r', '-U', '-f', format, '-c', cmd, image], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`;
}

/** "ok", "MISMATCH" or "ERROR: …" for the output of a qemu-io read/write. */
export function ioVerdict(out: string): string {
  if (out.includes('Pattern verification failed')) return 'MISMATCH';
  if (/^(read|wrote) \d+\/\d+ bytes/m.test(out)) return 'ok';
  return `ERROR: ${out.replace(/\n/g, ' | ')}`;
}

export function createImage(path: string, size = '64M'): string {
  qemuImg('create', '-q', '-f', 'qcow2', path, size);
  return path;
}

/** The first port of the kernel's ephemeral range (ports it hands out to bind(0) and connect()). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 11_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

function tryListen(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(null));
    s.listen(port, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : null));
    });
  });
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, picked at random below the ephemeral
 * range: a port the kernel chose for bind(0) is just as likely to be handed next to any
 * process's outgoing connection, and on a busy host that one took a QEMU's listening port
 * between this check and QEMU's bind ("Address already in use").
 */
export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  for (let i = 0; i < 50; i++) {
    const port = await tryListen(10_000 + Math.floor(Math.random() * (low - 10_000)));
    if (port !== null) return port;
  }
  const port = await tryListen(0);
  if (port === null) throw new Error('no free TCP port on 127.0.0.1');
  return port;
}

const started = new Set<QemuProcess>();

export class QemuProcess {
  readonly qmpPath: string;
  output = '';
  private exitCode: number | null | undefined = undefined;
  private exited: Promise<void>;
  qmp!: QMPClient;

  private constructor(
    readonly name: string,
    readonly argv: string[],
    readonly proc: ChildProcess,
    qmpPath: string,
  ) {
    this.qmpPath = qmpPath;
    this.controlPath = qmpPath.replace(/\.qmp$/, '.ctl.qmp');
    proc.stdout?.on('data', (b: Buffer) => (this.output += b.toString()));
    proc.stderr?.on('data', (b: Buffer) => (this.output += b.toString()));
    this.exited = new Promise((resolve) =>
      proc.once('exit', (code, sig) => {
        this.exitCode = code ?? (sig ? -1 : null);
        started.delete(this);
        resolve();
      }),
    );
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }

  /** A second QMP monitor `<dir>/<name>.ctl.qmp` for other clients (a monitor serves only one). */
  readonly controlPath: string;

  /** Starts QEMU with `args` plus QMP sockets `<dir>/<name>.qmp` (ours) and `.ctl.qmp`. */
  static async start(name: string, args: string[], dir: string): Promise<QemuProcess> {
    const qmpPath = join(dir, `${name}.qmp`);
    const ctl = join(dir, `${name}.ctl.qmp`);
    rmSync(qmpPath, { force: true });
    rmSync(ctl, { force: true });
    const argv = [
      ...args,
      '-qmp',
      `unix:${qmpPath},server=on,wait=off`,
      '-chardev',
      `socket,id=colo-xl-ctl,path=${ctl},server=on,wait=off`,
      '-mon',
      'chardev=colo-xl-ctl,mode=control',
    ];
    const proc = spawn(QEMU_BIN, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const q = new QemuProcess(name, argv, proc, qmpPath);
    started.add(q);
    // A QEMU that dies at start-up also ends the connect retries, which would otherwise keep
    // a timer (and so Node) alive for up to their 10 s.
    const gaveUp = new AbortController();
    const died = q.exited.then(() => {
      gaveUp.abort();
      throw new Error(`${name}: qemu exited (${q.exitCode}) at start-up: ${q.output.trim()}`);
    });
    try {
      q.qmp = await Promise.race([QMPClient.open(qmpPath, { retryMs: 10_000, name, signal: gaveUp.signal }), died]);
    } catch (e) {
      gaveUp.abort();
      // QEMU opens its QMP socket before it has checked every option, so a bad -drive shows up
      // as a closed connection: give it a moment to exit and report its own message.
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([q.exited, new Promise((r) => (grace = setTimeout(r, 2000)))]);
      clearTimeout(grace);
      await q.stop();
      if (!q.alive && q.output.trim() !== '') throw new Error(`${name}: qemu exited (${q.exitCode}): ${q.output.trim()}`);
      throw e;
    }
    void died.catch(() => undefined);
    return q;
  }

  /**
   * HMP qemu-io: its report goes to QEMU's stdout, not into the HMP reply, so wait for the
   * "read/wrote N/N bytes" (or an error) line in the captured output.
   */
  async qemuIo(device: string, cmd: string, timeoutMs = 5000): Promise<string> {
    const from = this.output.length;
    const reply = await this.qmp.hmp(`qemu-io ${device} "${cmd}"`);
    // only reads and writes print a summary line; other commands (flush) print nothing on success
    if (!/^(read|write)/.test(cmd)) return reply;
    const done = /^(read|wrote) \d+\/\d+ bytes|^(?!Pattern verification).*(error|failed)/im;
    const deadline = Date.now() + timeoutMs;
    while (!done.test(this.output.slice(from)) && !done.test(reply) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    return `${reply}${this.output.slice(from)}`;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.alive) this.proc.kill(signal);
    return this.exited;
  }

  /** Ends this QEMU: QMP quit, then SIGTERM, then SIGKILL (by its pid only). */
  async stop(timeoutMs = 3000): Promise<void> {
    const wait = (ms: number) => Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
    if (this.alive && this.qmp) {
      await this.qmp.execute('quit', undefined, { timeout: 1000 }).catch(() => undefined);
      if (!(await wait(timeoutMs))) this.proc.kill('SIGTERM');
    }
    if (this.alive && !(await wait(timeoutMs))) this.proc.kill('SIGKILL');
    await this.exited;
    await this.qmp?.disconnect();
  }
}

/** For after hooks: ends every QEMU this process started and has not ended yet. */
export async function stopAllQemus(): Promise<void> {
  await Promise.all([...started].map((q) => q.stop(1000)));
}

