/**
 * Real qemu-system-x86_64 processes: loopback only, QMP on a unix socket in a given directory,
 * KVM when /dev/kvm works (else TCG), and teardown that ends exactly the processes started here
 * (QMP quit, then SIGTERM, then SIGKILL, each by pid). A QemuGroup owns the QEMUs it spawns, so
 * whoever creates one (the demo, a drill, a test suite, the benchmark) ends them all with it;
 * nothing is kept at module level. The binaries' paths are the group's options, Debian's by default.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { QMPClient } from '../qmp/client.js';
import type { Logger } from '../util/log.js';
import { sleep } from '../util/wait.js';
import { QemuExitedError, QemuImgError, QemuNoFreePortError } from './errors.js';

/** Debian's qemu-system-x86 and qemu-utils: the defaults of QemuPaths. */
export const QEMU_BIN = '/usr/bin/qemu-system-x86_64';
export const QEMU_IMG = '/usr/bin/qemu-img';
export const QEMU_IO = '/usr/bin/qemu-io';

export interface QemuPaths {
  /** qemu-system-x86_64. */
  system: string;
  /** qemu-img. */
  img: string;
  /** qemu-io. */
  io: string;
}

export const DEFAULT_QEMU_PATHS: Readonly<QemuPaths> = Object.freeze({ system: QEMU_BIN, img: QEMU_IMG, io: QEMU_IO });

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

/**
 * Starts a QEMU that is to outlive its starter, as a Xen domain's device model outlives xl: in
 * its own session, stdin closed, stdout and stderr appended to `logPath`. The caller decides
 * whether to keep watching it (QemuGroup is for QEMUs the starter also ends).
 */
export function spawnDetached(argv: readonly string[], logPath: string): ChildProcess {
  const log = openSync(logPath, 'a');
  try {
    return spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', log, log] });
  } finally {
    closeSync(log);
  }
}

/** Runs qemu-img (`bin`, Debian's by default); its stdout, or a QemuImgError. */
export function runQemuImg(bin: string, args: readonly string[]): string {
  const r = spawnSync(bin, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new QemuImgError(args, r.status, `${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Debian's qemu-img with `args`; see runQemuImg and QemuGroup.img for another binary. */
export function qemuImg(...args: string[]): string {
  return runQemuImg(QEMU_IMG, args);
}

/** "ok", "MISMATCH" or "ERROR: …" for the output of a qemu-io read/write. */
export function ioVerdict(out: string): string {
  if (out.includes('Pattern verification failed')) return 'MISMATCH';
  if (/^(read|wrote) \d+\/\d+ bytes/m.test(out)) return 'ok';
  return `ERROR: ${out.replace(/\n/g, ' | ')}`;
}

/** A qcow2 image of `size` at `path` (qemu-img `bin`); returns the path. */
export function createImage(path: string, size = '64M', bin = QEMU_IMG): string {
  runQemuImg(bin, ['create', '-q', '-f', 'qcow2', path, size]);
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
  if (port === null) throw new QemuNoFreePortError();
  return port;
}

/**
 * `n` ports as freePort picks them, all different: picks made before anything binds them can
 * otherwise repeat (a QEMU then fails to bind the second listener on the same port).
 */
export async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** Resolves true once `p` settles, false after `ms`; the timer goes either way. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export interface QemuGroupOptions {
  /** Where the binaries are; each one defaults to DEFAULT_QEMU_PATHS'. */
  paths?: Partial<QemuPaths>;
  /** Given to each QEMU's QMP client (scoped `qmp <socket>`). */
  logger?: Logger;
  /** How long spawn() waits for QEMU's QMP socket to appear. Default 10 s. */
  qmpRetryMs?: number;
}

/** The QEMUs one owner started: spawn() them, stopAll() (or `await using`) ends those still running. */
export class QemuGroup implements AsyncDisposable {
  readonly paths: QemuPaths;
  private readonly running = new Set<QemuProcess>();

  constructor(private readonly opts: QemuGroupOptions = {}) {
    this.paths = { ...DEFAULT_QEMU_PATHS, ...opts.paths };
  }

  /** The QEMUs of this group that have not exited. */
  get processes(): QemuProcess[] {
    return [...this.running];
  }

  /** qemu-img of this group's paths. */
  img(...args: string[]): string {
    return runQemuImg(this.paths.img, args);
  }

  /**
   * Starts QEMU `name` with `args` plus QMP sockets `<dir>/<name>.qmp` (the process's own client)
   * and `<dir>/<name>.ctl.qmp` (for other clients: a monitor serves only one), and connects.
   */
  async spawn(name: string, args: string[], dir: string): Promise<QemuProcess> {
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
    const proc = spawn(this.paths.system, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const q = new QemuProcess(name, argv, proc, qmpPath, () => this.running.delete(q));
    this.running.add(q);
    // A QEMU that dies at start-up also ends the connect retries, which would otherwise keep
    // a timer (and so Node) alive for up to their 10 s.
    const gaveUp = new AbortController();
    const died = q.whenExited.then(() => {
      gaveUp.abort();
      throw new QemuExitedError(name, q.exitCode, q.output.trim(), { atStartUp: true });
    });
    try {
      const client = QMPClient.open(qmpPath, { retryMs: this.opts.qmpRetryMs ?? 10_000, name, signal: gaveUp.signal, logger: this.opts.logger });
      q.qmp = await Promise.race([client, died]);
    } catch (e) {
      gaveUp.abort();
      // QEMU opens its QMP socket before it has checked every option, so a bad -drive shows up
      // as a closed connection: give it a moment to exit and report its own message.
      await within(q.whenExited, 2000);
      await q.stop();
      if (!q.alive && q.output.trim() !== '') throw new QemuExitedError(name, q.exitCode, q.output.trim(), { cause: e });
      throw e;
    }
    void died.catch(() => undefined);
    return q;
  }

  /** Ends every QEMU of this group still running (each by its pid: quit, SIGTERM, SIGKILL). */
  async stopAll(timeoutMs = 1000): Promise<void> {
    await Promise.all([...this.running].map((q) => q.stop(timeoutMs)));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stopAll();
  }
}

/** One QEMU of a QemuGroup (which creates them: see QemuGroup.spawn). */
export class QemuProcess {
  readonly qmpPath: string;
  /** A second QMP monitor `<dir>/<name>.ctl.qmp` for other clients (a monitor serves only one). */
  readonly controlPath: string;
  output = '';
  exitCode: number | null | undefined = undefined;
  /** Settles when the process has exited. */
  readonly whenExited: Promise<void>;
  qmp!: QMPClient;

  /** @internal */
  constructor(
    readonly name: string,
    readonly argv: string[],
    readonly proc: ChildProcess,
    qmpPath: string,
    onExit: () => void,
  ) {
    this.qmpPath = qmpPath;
    this.controlPath = qmpPath.replace(/\.qmp$/, '.ctl.qmp');
    proc.stdout?.on('data', (b: Buffer) => (this.output += b.toString()));
    proc.stderr?.on('data', (b: Buffer) => (this.output += b.toString()));
    this.whenExited = new Promise((resolve) =>
      proc.once('exit', (code, sig) => {
        this.exitCode = code ?? (sig ? -1 : null);
        onExit();
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

  /**
   * HMP qemu-io: its report goes to QEMU's stdout, not into the HMP reply, so wait (at most
   * `timeoutMs`) for the "read/wrote N/N bytes" (or an error) line in the captured output.
   */
  async qemuIo(device: string, cmd: string, timeoutMs = 5000): Promise<string> {
    const from = this.output.length;
    const reply = await this.qmp.hmp(`qemu-io ${device} "${cmd}"`);
    // only reads and writes print a summary line; other commands (flush) print nothing on success
    if (!/^(read|write)/.test(cmd)) return reply;
    const done = /^(read|wrote) \d+\/\d+ bytes|^(?!Pattern verification).*(error|failed)/im;
    const deadline = Date.now() + timeoutMs;
    while (!done.test(this.output.slice(from)) && !done.test(reply) && Date.now() < deadline) await sleep(5);
    return `${reply}${this.output.slice(from)}`;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.alive) this.proc.kill(signal);
    return this.whenExited;
  }

  /** Ends this QEMU: QMP quit, then SIGTERM, then SIGKILL (by its pid only). */
  async stop(timeoutMs = 3000): Promise<void> {
    if (this.alive && this.qmp) {
      await this.qmp.execute('quit', undefined, { timeoutMs: 1000 }).catch(() => undefined);
      if (!(await within(this.whenExited, timeoutMs))) this.proc.kill('SIGTERM');
    }
    if (this.alive && !(await within(this.whenExited, timeoutMs))) this.proc.kill('SIGKILL');
    await this.whenExited;
    await this.qmp?.disconnect();
  }
}
