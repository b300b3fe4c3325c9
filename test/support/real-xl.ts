/**
 * Runs Xen 4.17's real `xl` (its dry-run paths only) without a hypervisor, as an oracle for
 * differential tests: LD_PRELOAD of xen-shims/xs-nohv-shim.c (libxenctrl handle) and
 * xen-shims/xl-nohv-shim.c (version and physinfo of a fixed fake host), with libxl talking to a
 * real shimmed xenstored started by real-xenstored.ts.
 */
import { spawn } from 'node:child_process';
import { buildShim, startRealXenstored, type RealXenstored } from './real-xenstored.js';
import { requireFile } from './require-tool.js';

export const XL_BIN = '/usr/lib/xen-4.17/bin/xl';

export interface XlResult {
  stdout: string;
  stderr: string;
  status: number | null;
}

export interface RealXl {
  /** `xl <args>` in `cwd` (default: the current directory). */
  run(args: string[], cwd?: string): Promise<XlResult>;
  xenstored: RealXenstored;
  stop(): Promise<void>;
}

export async function startRealXl(): Promise<RealXl> {
  requireFile(XL_BIN, 'xen-utils-4.17');
  const shims = [buildShim('xs-nohv-shim'), buildShim('xl-nohv-shim')].join(' ');
  const xenstored = await startRealXenstored();
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LD_PRELOAD: shims,
    XENSTORED_PATH: xenstored.socketPath,
    XS_SHIM_DIR: xenstored.rundir,
  };
  const run = (args: string[], cwd?: string): Promise<XlResult> =>
    new Promise((resolve, reject) => {
      const child = spawn(XL_BIN, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('error', reject);
      child.on('close', (status) => {
        clearTimeout(timer);
        resolve({ stdout, stderr, status });
      });
    });
  return { run, xenstored, stop: () => xenstored.stop() };
}
