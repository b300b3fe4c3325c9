/**
 * The one way tests run colo-xl: `cli()` calls cli/main.ts's `main` in this process with a
 * CapturedIo (fast; only the named command is loaded), `cliProcess()` runs the CLI from source
 * in a child process (for a receiver a shell starts, signals, stdin), and `binProcess()` runs the
 * built `bin/colo-xl.js` itself (needs `npm run build`).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CapturedIo } from '../../cli/io.js';
import { main } from '../../cli/main.js';

export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** The environment the command sees (default: empty, so the host's settings do not leak in). */
  env?: NodeJS.ProcessEnv;
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `colo-xl` from source as a script: `node --import tsx CLI_ENTRY <argv>`. */
export const CLI_ENTRY = join(ROOT, 'test', 'support', 'cli-entry.ts');
/** The installed command, over dist/. */
export const CLI_BIN = join(ROOT, 'bin', 'colo-xl.js');

/** Runs `colo-xl <argv>` in this process; its output is captured byte for byte. */
export async function cli(argv: string[], opts: CliOptions = {}): Promise<CliRun> {
  const io = new CapturedIo();
  const status = await main(argv, io, opts.env ?? {});
  return { status, stdout: io.stdout, stderr: io.stderr };
}

export interface ProcessOptions {
  env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin, which is then closed. */
  input?: string;
}

function run(args: string[], opts: ProcessOptions): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ status: code ?? (signal ? 128 : 1), stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs `colo-xl <argv>` from source in a child process. */
export function cliProcess(argv: string[], opts: ProcessOptions = {}): Promise<CliRun> {
  return run(['--import', 'tsx', CLI_ENTRY, ...argv], opts);
}

/** Whether dist/ holds a build for binProcess. */
export const hasBuild = (): boolean => existsSync(join(ROOT, 'dist', 'cli', 'main.js'));

/** Runs the built `bin/colo-xl.js <argv>` in a child process. */
export function binProcess(argv: string[], opts: ProcessOptions = {}): Promise<CliRun> {
  return run([CLI_BIN, ...argv], opts);
}
