/**
 * A real Xen 4.17 hypervisor with a Debian 12 dom0, booted under QEMU TCG for tests.
 *
 * Why TCG: /dev/kvm on this kind of machine cannot run a stock kernel. Why `-cpu max` and
 * `smap=0 smep=0`: under TCG a PV dom0 faults at its first instruction with SMAP/SMEP on, and
 * `-cpu EPYC` makes Xen panic during boot. dom0 is controlled through the request folder of
 * dom0.ts (a 9p share); the checkout and the host's node binary are shared read-only and mounted
 * in dom0 at /mnt/checkout and /mnt/nodebin (`node` is on dom0's PATH). There is no network.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { QEMU_BIN } from '../../lib/qemu/process.js';
import { requireFile } from '../support/require-tool.js';
import { Dom0Channel } from './dom0.js';
import { BootError, XenRigError } from './errors.js';
import { RECIPE_DIR, type RigImage } from './image.js';

export const CHECKOUT = resolve(RECIPE_DIR, '..', '..', '..');
/** Where dom0 sees the checkout and the host's node. */
export const DOM0_CHECKOUT = '/mnt/checkout';

export interface BootOptions {
  /** RAM of the emulated machine and dom0's share of it (Xen's dom0_mem). */
  machineMemory?: string;
  dom0Memory?: string;
  vcpus?: number;
  /** More words for Xen's command line. */
  xenArgs?: readonly string[];
  /** Seconds from QEMU's start until dom0's agent must answer. */
  bootTimeoutSeconds?: number;
  signal?: AbortSignal;
  /** Told each milestone as it is reached, with seconds since QEMU started. */
  onMilestone?: (name: string, seconds: number) => void;
}

/** Console lines that mark the boot's progress, in order (rc.sh prints the "xen-rig:" ones). */
const MILESTONES: ReadonlyArray<readonly [string, RegExp]> = [
  ['xen', /Xen version 4\.17/],
  ['dom0 kernel', /Linux version \d/],
  ['dom0 userspace', /xen-rig: dom0 userspace up/],
  ['xenstored up', /xen-rig: xenstored up/],
  ['rc done', /xen-rig: rc done/],
];
/**
 * Lines after which the boot cannot succeed: Xen's own panic, dom0 crashing (Xen then halts, as
 * `noreboot` asks, rather than rebooting into the same crash), dom0's kernel panic, and rc.sh
 * failing at a step the rig needs.
 */
const FATAL = new RegExp([
  'Panic on CPU', 'FATAL TRAP', 'Hardware Dom0 crashed', 'Domain 0 \\(vcpu#\\d+\\) crashed', 'Kernel panic',
  'xen-rig: xenstored NOT up', 'xen-rig: 9p share ctl NOT mounted',
].join('|'));

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export class XenRig {
  private exited = false;
  private readonly onExit = (): void => this.killNow();
  /** Killed by a signal, node emits no 'exit': stop QEMU, then die of the same signal. */
  private readonly onSignal = (sig: NodeJS.Signals): void => {
    this.killNow();
    this.unhook();
    process.kill(process.pid, sig);
  };

  private constructor(
    readonly runDir: string,
    readonly dom0: Dom0Channel,
    private readonly qemu: ChildProcess,
    /** Seconds from QEMU's start to each milestone reached, and to the agent answering ("agent"). */
    readonly milestones: Map<string, number>,
  ) {
    // 'close', not 'exit': by then QEMU's stderr has been read to its end.
    qemu.once('close', () => { this.exited = true; });
    process.once('exit', this.onExit);
    for (const sig of SIGNALS) process.once(sig, this.onSignal);
  }

  private unhook(): void {
    process.removeListener('exit', this.onExit);
    for (const sig of SIGNALS) process.removeListener(sig, this.onSignal);
  }

  get pid(): number {
    return this.qemu.pid ?? -1;
  }

  get consolePath(): string {
    return join(this.runDir, 'console.log');
  }

  /** dom0's console (hvc0, through Xen's com1) as a unix socket; a root shell runs on it. */
  get consoleSocket(): string {
    return join(this.runDir, 'console.sock');
  }

  /**
   * Types `line` on dom0's console and answers what came back within `ms`: the way in when the
   * request agent is stuck, since the console needs neither the agent nor 9p.
   */
  typeOnConsole(line: string, ms = 15_000): Promise<string> {
    return new Promise((resolve) => {
      let got = '';
      const sock = connect(this.consoleSocket);
      const done = (): void => {
        sock.destroy();
        resolve(got.replace(/\r/g, '') || '(no answer on the console)');
      };
      const timer = setTimeout(done, ms);
      sock.on('data', (d: Buffer) => { got += d.toString('latin1'); });
      sock.on('error', (e) => { clearTimeout(timer); got += `(console socket: ${e.message})`; done(); });
      sock.on('connect', () => sock.write(`\r${line}\r`));
    });
  }

  /** The serial console's last `lines` lines (Xen's and dom0's output, hvc0 goes through Xen). */
  consoleTail(lines = 60): string {
    return consoleTail(this.consolePath, lines);
  }

  /**
   * The console's last 60 lines and, when the fatal message at line `at` is older than those, that
   * message and the few lines after it first, so a reader always sees what stopped the boot.
   */
  private consoleFrom(at: number): string {
    const lines = readFileSync(this.consolePath, 'latin1').replace(/\r/g, '').trimEnd().split('\n');
    const start = Math.max(0, lines.length - 60);
    const head = at < start ? [...lines.slice(Math.max(0, at - 2), Math.min(at + 10, start)), '...'] : [];
    return [...head, ...lines.slice(start)].join('\n');
  }

  static async boot(image: RigImage, opts: BootOptions = {}): Promise<XenRig> {
    requireFile(QEMU_BIN, 'qemu-system-x86');
    const runDir = mkdtempSync(join(tmpdir(), 'colo-xl-xen-rig-'));
    const ctl = join(runDir, 'ctl');
    // The agent's stall diagnosis needs the rig; the rig needs the channel: a late-bound lookup.
    const rigRef: { rig?: XenRig } = {};
    const dom0 = new Dom0Channel(
      ctl,
      async () => (rigRef.rig ? rigRef.rig.typeOnConsole('ps -eo pid,stat,wchan:24,etime,args | tail -n 40; free -m') : '(no rig)'),
      // A user process spinning for minutes right after it started (see README, "Seen under TCG"):
      // kill each one that has been running (R) for over a minute, and say which.
      async () =>
        rigRef.rig
          ? rigRef.rig.typeOnConsole(
              "ps -eo pid=,stat=,etimes=,args= | awk '$2 ~ /^R/ && $3 > 60 && $4 !~ /^\\[/ {print}' | tee /dev/stderr | awk '{print $1}' | xargs -r kill -9",
            )
          : '(no rig)',
    );
    const nodeDir = shareNode(runDir);
    const consolePath = join(runDir, 'console.log');
    const dom0Mem = opts.dom0Memory ?? '1536M';
    const xenArgs = [
      `dom0_mem=${dom0Mem},max:${dom0Mem}`, `dom0_max_vcpus=${opts.vcpus ?? 1}`,
      'console=com1', 'com1=115200,8n1', 'loglvl=all', 'guest_loglvl=all', 'console_timestamps=boot',
      'noreboot', 'smap=0', 'smep=0', ...(opts.xenArgs ?? []),
    ];
    const dom0Args = 'root=/dev/vda rw console=hvc0 earlyprintk=xen';
    const share = (tag: string, path: string, ro: boolean): string[] => [
      '-virtfs', `local,path=${optionPath(path)},mount_tag=${tag},security_model=none,id=${tag}${ro ? ',readonly=on' : ''}`,
    ];
    const args = [
      // One host thread for all vCPUs: the machine is shared, and nice keeps it polite.
      '-accel', 'tcg,thread=single', '-cpu', 'max', '-m', opts.machineMemory ?? '3G', '-smp', String(opts.vcpus ?? 1),
      '-kernel', image.xen, '-append', xenArgs.join(' '),
      '-initrd', `${optionPath(image.vmlinuz)} ${dom0Args},${optionPath(image.initrd)}`,
      '-drive', `file=${optionPath(image.rootImage)},format=raw,if=virtio,cache=unsafe,snapshot=on`,
      ...share('ctl', ctl, false), ...share('checkout', CHECKOUT, true), ...share('nodebin', nodeDir, true),
      // A socket to type on, and a log file of everything Xen and dom0 print whether or not anyone is connected.
      '-chardev', `socket,id=console,path=${optionPath(join(runDir, 'console.sock'))},server=on,wait=off,logfile=${optionPath(consolePath)}`,
      '-serial', 'chardev:console',
      '-display', 'none', '-monitor', 'none', '-nic', 'none', '-no-reboot',
    ];
    const t0 = performance.now();
    // `nice` execs QEMU, so the child's pid is QEMU's own.
    const qemu = spawn('nice', ['-n', '10', QEMU_BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    qemu.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    const rig = new XenRig(runDir, dom0, qemu, new Map());
    rigRef.rig = rig;
    try {
      await rig.waitForBoot(t0, opts, () => stderr);
    } catch (e) {
      await rig.stop({ keepRunDir: true });
      throw e;
    }
    return rig;
  }

  private async waitForBoot(t0: number, opts: BootOptions, qemuStderr: () => string): Promise<void> {
    const limit = (opts.bootTimeoutSeconds ?? 1200) * 1000;
    const mark = (name: string): void => {
      const s = (performance.now() - t0) / 1000;
      this.milestones.set(name, s);
      opts.onMilestone?.(name, s);
    };
    for (;;) {
      const text = existsSync(this.consolePath) ? readFileSync(this.consolePath, 'latin1') : '';
      for (const [name, re] of MILESTONES) if (!this.milestones.has(name) && re.test(text)) mark(name);
      if (this.dom0.ready()) {
        mark('agent');
        return;
      }
      const fatal = FATAL.exec(text);
      if (fatal) {
        // Xen prints the crashed domain's registers and stack after the line: let it finish.
        await sleep(2000, undefined, { signal: opts.signal });
        throw this.bootError(`"${fatal[0]}" on the console`, this.consoleFrom(text.slice(0, fatal.index).split('\n').length - 1));
      }
      if (this.exited) throw this.bootError(`QEMU exited: ${qemuStderr().trim() || '(no message)'}`);
      if (performance.now() - t0 > limit) {
        throw this.bootError(`dom0's agent did not answer within ${limit / 1000} s`);
      }
      await sleep(500, undefined, { signal: opts.signal });
    }
  }

  private bootError(reason: string, tail = this.consoleTail()): BootError {
    return new BootError(reason, tail, this.pid, this.runDir);
  }

  /** Stops QEMU by its pid (SIGTERM, then SIGKILL after 10 s) and removes the run directory. */
  async stop(opts: { keepRunDir?: boolean } = {}): Promise<void> {
    this.unhook();
    if (!this.exited && this.qemu.pid !== undefined) {
      const gone = new Promise<void>((res) => this.qemu.once('close', () => res()));
      this.qemu.kill('SIGTERM');
      const late = await Promise.race([gone.then(() => false), sleep(10_000).then(() => true)]);
      if (late) {
        this.qemu.kill('SIGKILL');
        await gone;
      }
    }
    if (!opts.keepRunDir) rmSync(this.runDir, { recursive: true, force: true });
  }

  /** The mocha process is exiting without stop(): QEMU must not outlive it. */
  private killNow(): void {
    if (!this.exited) this.qemu.kill('SIGKILL');
  }
}

/**
 * A path as it goes into a QEMU option string. A comma would end the value there, and a space
 * would split -initrd's module list: refused rather than quoted, since neither is expected.
 */
function optionPath(path: string): string {
  if (/[,\s]/.test(path)) throw new XenRigError(`xen rig: QEMU cannot be given ${JSON.stringify(path)} (a comma or space in it)`);
  return path;
}

/** A directory holding only the host's node binary (hard link, or a copy across file systems). */
function shareNode(runDir: string): string {
  const dir = join(runDir, 'nodebin');
  mkdirSync(dir);
  const node = realpathSync(process.execPath);
  try {
    linkSync(node, join(dir, 'node'));
  } catch {
    copyFileSync(node, join(dir, 'node'));
  }
  return dir;
}

export function consoleTail(path: string, lines: number): string {
  if (!existsSync(path)) return '(no console output)';
  const text = readFileSync(path, 'latin1').replace(/\r/g, '').trimEnd();
  return text ? text.split('\n').slice(-lines).join('\n') : '(no console output)';
}

