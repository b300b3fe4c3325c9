/**
 * Starting the QEMU side of a COLO primary or secondary from an xl.cfg with this project's own
 * builders (xl.cfg parser, libxl_domain_create_new / _restore, the device-model builder), on a
 * host without Xen: the Xen-only arguments are dropped and Xen's machine becomes `-machine pc`.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfigData } from '../xl/parse.js';
import { domainCreateNew, domainCreateRestore } from '../libxl/create.js';
import { readXlGlobals } from '../xl/globals.js';
import { QEMU_BIN, spawnDetached } from '../qemu/process.js';

export type ColoRole = 'primary' | 'secondary';

/** Xen's device-model argv as a plain QEMU argv: the Xen-only options out, `-machine pc` in. */
export function xenToPlainQemu(argv: readonly string[], accel: 'kvm' | 'tcg', qemu = QEMU_BIN): string[] {
  const out = [qemu];
  const dropWithValue = new Set(['-xen-domid', '-chroot', '-runas', '-run-with']);
  const dropAlone = new Set(['-xen-attach', '-xen-domid-restrict']);
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (dropWithValue.has(a)) i++;
    else if (dropAlone.has(a)) continue;
    else if (a === '-machine') {
      i++;
      out.push('-machine', 'pc', '-accel', accel);
    } else out.push(a);
  }
  return out;
}

export interface LaunchOptions {
  role: ColoRole;
  domid: number;
  /** Where the QMP sockets (qmp-libxl-<domid>) and the log go. */
  runDir: string;
  accel: 'kvm' | 'tcg';
  /** Warnings and config diagnostics, as xl prints them. */
  err: (text: string) => void;
}

export interface Launched {
  pid: number;
  argv: string[];
  qmpPath: string;
  logPath: string;
}

/** The argv for `file` in `role` (secondary: a COLO checkpointed restore, as migrate-receive --colo). */
export function launchArgv(file: string, opts: Omit<LaunchOptions, 'accel'> & { accel: 'kvm' | 'tcg' }): string[] {
  const config = parseConfigData(file, readFileSync(file, 'utf8'), { err: opts.err, globals: readXlGlobals() });
  for (const u of config.unsupported) opts.err(`colo-xl: ${file}:${u.line}: \`${u.name}' is not supported by colo-xl and was ignored\n`);
  const dmOpts = { domid: opts.domid, runDir: opts.runDir };
  const created = opts.role === 'primary' ? domainCreateNew(config, dmOpts) : domainCreateRestore(config, { checkpointed_stream: 'colo' }, dmOpts);
  for (const w of created.dm.warnings) opts.err(`libxl: warning: ${w}\n`);
  return xenToPlainQemu(created.dm.args, opts.accel);
}

/** Starts QEMU in the background (its own session, output to a log) and returns at once. */
export function launchQemu(file: string, opts: LaunchOptions): Launched {
  const argv = launchArgv(file, opts);
  mkdirSync(opts.runDir, { recursive: true });
  const logPath = join(opts.runDir, `qemu-dm-${opts.role}-${opts.domid}.log`);
  const child = spawnDetached(argv, logPath);
  child.unref();
  return { pid: child.pid ?? -1, argv, qmpPath: join(opts.runDir, `qmp-libxl-${opts.domid}`), logPath };
}
