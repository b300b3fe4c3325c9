/**
 * Installing the Debian packages a command needs (the demo's QEMU), the way tools/apt.sh does for
 * the test suite: a fresh Debian has empty package lists, so `apt-get update` runs first when
 * there are none, and once more when an install fails on stale lists. Not root: the exact command
 * to run as root, through sudo when there is one (a minimal Debian has none) or `su -c`.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export type AptRunner = (args: string[]) => Pick<SpawnSyncReturns<string>, 'status' | 'stdout' | 'stderr'>;

export interface AptHost {
  /** Runs apt-get with these arguments (default: the real one, non-interactive). */
  run?: AptRunner;
  /** Where apt keeps its package lists (default /var/lib/apt/lists). */
  listsDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Reports each step (the update, the install). */
  onStep?: (what: string) => void;
}

const realApt: AptRunner = (args) =>
  spawnSync('apt-get', args, { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });

export function aptListsEmpty(listsDir = '/var/lib/apt/lists'): boolean {
  try {
    return !readdirSync(listsDir).some((f) => f.includes('_Packages'));
  } catch {
    return true;
  }
}

function tail(r: { stdout: string; stderr: string }): string {
  return `${r.stderr || r.stdout}`.trim().split('\n').slice(-3).join('\n');
}

/** apt-get install of pkgs, updating the lists when needed; null on success, else apt's last words. */
export function aptInstall(pkgs: string[], host: AptHost = {}): string | null {
  const run = host.run ?? realApt;
  const step = host.onStep ?? (() => undefined);
  const install = (): ReturnType<AptRunner> => {
    step(`apt-get install ${pkgs.join(' ')}`);
    return run(['install', '-y', '--no-install-recommends', ...pkgs]);
  };
  const update = (why: string): string | null => {
    step(`apt-get update (${why})`);
    const r = run(['update']);
    return r.status === 0 ? null : `apt-get update failed:\n${tail(r)}`;
  };
  let updated = false;
  if (aptListsEmpty(host.listsDir)) {
    const err = update('the package lists are empty');
    if (err !== null) return err;
    updated = true;
  }
  let r = install();
  if (r.status !== 0 && !updated) {
    // "Unable to locate package" or a 404 from lists that are there but stale
    const err = update('the install failed; the lists may be stale');
    if (err !== null) return err;
    r = install();
  }
  return r.status === 0 ? null : tail(r);
}

function onPath(cmd: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? '').split(delimiter).some((d) => {
    try {
      accessSync(join(d, cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The command a non-root user runs to install pkgs: through sudo when present, else su -c. */
export function aptRootCommand(pkgs: string[], env: NodeJS.ProcessEnv = process.env): string {
  const cmd = `apt-get update && apt-get install -y --no-install-recommends ${pkgs.join(' ')}`;
  return onPath('sudo', env) ? `sudo sh -c '${cmd}'` : `su -c '${cmd}'`;
}
