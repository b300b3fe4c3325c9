/**
 * The rig's boot files, built by the shell recipe in test/xen/recipe/ and cached outside the
 * checkout under /var/cache/colo-xl/xen-rig/, one directory per hash of the recipe files that
 * made it, so a second run (and every run until the recipe changes) reuses them.
 *
 * Two stages, each cached on its own: the mmdebstrap root tree (rootfs.sh: packages only, the slow
 * part) and the bootable image made from it (image.sh plus dom0's and the guest's files).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageBuildError, XenRigError } from './errors.js';
import { requireFile } from '../support/require-tool.js';
import { processAlive } from '../../lib/util/pid-lock.js';

export const RECIPE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'recipe');
export const CACHE_ROOT = '/var/cache/colo-xl/xen-rig';

/** What QEMU boots: all in one cache directory. */
export interface RigImage {
  dir: string;
  /** Xen's ELF (multiboot kernel). */
  xen: string;
  /** dom0's kernel and initramfs (multiboot modules). */
  vmlinuz: string;
  initrd: string;
  /** dom0's root file system, raw ext4; QEMU opens it with snapshot=on, so it is never written. */
  rootImage: string;
  /** Seconds each stage took in this run; 0 when it came from the cache. */
  rootfsSeconds: number;
  imageSeconds: number;
}

/** sha256 over the named recipe files (path and content), in a stable order. */
export function recipeHash(files: readonly string[], seed = ''): string {
  const h = createHash('sha256').update(seed);
  for (const f of [...files].sort()) {
    h.update(`${relative(RECIPE_DIR, f)}\0`).update(readFileSync(f)).update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

export interface BuildOptions {
  signal?: AbortSignal;
  /** Told each stage's name before it runs (not called for a cached stage). */
  onStage?: (stage: string) => void;
}

/** Returns the cached image, building what is missing first. Needs root (mmdebstrap --mode=root). */
export async function ensureImage(opts: BuildOptions = {}): Promise<RigImage> {
  if (process.getuid?.() !== 0) throw new XenRigError('xen rig: building the image needs root (mmdebstrap --mode=root)');
  requireFile('/usr/bin/mmdebstrap', 'mmdebstrap');
  requireFile('/usr/sbin/mke2fs', 'e2fsprogs');

  const rootfsScript = join(RECIPE_DIR, 'rootfs.sh');
  const rootfsKey = `rootfs-${recipeHash([rootfsScript])}`;
  const imageFiles = filesUnder(RECIPE_DIR).filter((f) => f !== rootfsScript);
  const imageKey = recipeHash(imageFiles, rootfsKey);

  const rootfs = await cachedStage(rootfsKey, 'rootfs.sh', (out) => [rootfsScript, out], opts);
  const tree = join(rootfs.dir, 'tree');
  const image = await cachedStage(imageKey, 'image.sh', (out) => [join(RECIPE_DIR, 'image.sh'), tree, out], opts);
  const file = (name: string): string => {
    const p = join(image.dir, name);
    if (!existsSync(p)) throw new XenRigError(`xen rig: ${p} is missing from the cached image; remove ${image.dir} to rebuild`);
    return p;
  };
  return {
    dir: image.dir,
    xen: file('xen'),
    vmlinuz: file('vmlinuz'),
    initrd: file('initrd.img'),
    rootImage: file('dom0.img'),
    rootfsSeconds: rootfs.seconds,
    imageSeconds: image.seconds,
  };
}

/**
 * One stage: the cache directory `key` when it is complete, else the script run into a scratch
 * directory beside it and renamed into place, so an interrupted build never looks complete.
 */
async function cachedStage(
  key: string,
  step: string,
  argv: (out: string) => string[],
  opts: BuildOptions,
): Promise<{ dir: string; seconds: number }> {
  const dir = join(CACHE_ROOT, key);
  if (existsSync(join(dir, '.complete'))) return { dir, seconds: 0 };
  mkdirSync(CACHE_ROOT, { recursive: true });
  removeAbandoned(key);
  const scratch = `${dir}.building-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  const log = `${scratch}.log`;
  opts.onStage?.(step);
  const t0 = performance.now();
  try {
    await runLogged(argv(join(scratch, 'out')), log, step, opts.signal);
  } catch (e) {
    rmSync(scratch, { recursive: true, force: true });
    throw e;
  }
  const seconds = (performance.now() - t0) / 1000;
  writeFileSync(join(scratch, 'out', '.complete'), `${step} ${seconds.toFixed(1)} s\n`);
  if (existsSync(join(dir, '.complete'))) {
    // Another run finished the same stage meanwhile; its copy is as good and may be in use.
    rmSync(scratch, { recursive: true, force: true });
    rmSync(log, { force: true });
    return { dir, seconds };
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(join(scratch, 'out'), dir);
  rmSync(scratch, { recursive: true, force: true });
  renameSync(log, join(dir, '.build.log'));
  return { dir, seconds };
}

/** Scratch directories (and logs) of builds whose process is gone: an interrupted run's leftovers. */
function removeAbandoned(key: string): void {
  for (const name of readdirSync(CACHE_ROOT)) {
    const m = new RegExp(`^${key}\\.building-(\\d+)(\\.log)?$`).exec(name);
    if (m && !processAlive(Number(m[1]))) rmSync(join(CACHE_ROOT, name), { recursive: true, force: true });
  }
}

/** Runs a recipe script at low priority with its output in `log`; a failure quotes the log's end. */
function runLogged(argv: string[], log: string, step: string, signal?: AbortSignal): Promise<void> {
  mkdirSync(dirname(log), { recursive: true });
  const fd = openSync(log, 'w');
  return new Promise<void>((resolve, reject) => {
    const child = spawn('nice', ['-n', '10', 'bash', ...argv], { stdio: ['ignore', fd, fd], signal });
    child.once('error', (e) => reject(new ImageBuildError(step, `${e.message}\n${tail(log)}`)));
    child.once('exit', (code, sig) => {
      if (code === 0) resolve();
      else reject(new ImageBuildError(`${step} (exit ${code ?? sig})`, tail(log)));
    });
  }).finally(() => closeSync(fd));
}

function tail(path: string, lines = 30): string {
  try {
    if (statSync(path).size === 0) return '(no output)';
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
