/**
 * The destination QEMU as `colo-xl migrate-receive` starts it: in its own session with its output
 * in a log, so the VM outlives the receiver (as a Xen domain outlives `xl migrate-receive`), and
 * its QMP socket in the run directory for whoever manages it next.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { QMPClient } from '../qmp/client.js';
import { QEMU_BIN, spawnDetached } from '../qemu/process.js';
import type { LaunchedQemu, QemuLauncher } from './receive.js';
import { MigrateFailure } from './types.js';

export const detachedLauncher: QemuLauncher = async (argv, runDir) => {
  mkdirSync(runDir, { recursive: true });
  const tag = `migrate-${process.pid}-${Date.now()}`;
  const qmpPath = join(runDir, `qmp-libxl-${tag}`);
  const logPath = join(runDir, `qemu-dm-${tag}.log`);
  rmSync(qmpPath, { force: true });
  const child = spawnDetached([QEMU_BIN, ...argv, '-qmp', `unix:${qmpPath},server=on,wait=off`], logPath);
  let exitWhy: string | null = null;
  const exitCbs: Array<(why: string) => void> = [];
  child.once('exit', (code, sig) => {
    exitWhy = `destination QEMU exited (${sig ?? code ?? '?'}): ${readFileSync(logPath, 'utf8').trim().split('\n').slice(-3).join(' | ')}`;
    for (const cb of exitCbs) cb(exitWhy);
  });
  const pid = child.pid ?? -1;
  let qmp: QMPClient;
  try {
    qmp = await QMPClient.open(qmpPath, { retryMs: 10_000, name: 'migrate-dest' });
  } catch (e) {
    if (exitWhy === null) process.kill(pid, 'SIGKILL');
    throw new MigrateFailure('MIGRATE_QEMU_START', exitWhy ?? `destination QEMU: no QMP on ${qmpPath}: ${(e as Error).message}`, { cause: e });
  }
  const launched: LaunchedQemu = {
    pid,
    qmp,
    qmpPath,
    onExit: (cb) => void (exitWhy !== null ? cb(exitWhy) : exitCbs.push(cb)),
    destroy: async () => {
      if (exitWhy === null) {
        const gone = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGKILL');
        await gone;
      }
      await qmp.disconnect();
      rmSync(qmpPath, { force: true });
    },
    release: async () => {
      await qmp.disconnect();
      child.unref();
    },
  };
  return launched;
};
