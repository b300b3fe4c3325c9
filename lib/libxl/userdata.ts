/**
 * The domain configuration libxl keeps as userdata (`xl list -l` shows it, migration ships it),
 * changed under libxl's per-domain userdata lock when a device comes or goes. The lock is
 * libxl's own file and syscall (see flock.ts), so colo-xl and xl on one host take turns.
 */
import { mkdirSync } from 'node:fs';
import { yajlStringify, type JsonValue } from '../json/value.js';
import type { LibxlCtx } from './ctx.js';
import { domainPath, domainUuid, getDomainConfiguration, setDomainConfiguration, userdataPath } from './domain.js';
import { ERROR_JSON_CONFIG_EMPTY, ERROR_LOCK_FAIL, LibxlError } from './errors.js';
import { LockFile } from './flock.js';
import type { WaitOptions } from '../util/wait.js';

/** The wait for the lock, as LockFile.acquire's (libxl itself waits as long as the holder keeps it). */
export interface UserdataLockOptions extends WaitOptions {
  /** The domain's UUID, when the caller has it already. */
  uuid?: string;
}

/**
 * libxl_internal.c:libxl__lock_domain_userdata: the `domain-userdata-lock` of the domain, then a
 * check that the domain is still there (else the lock is let go and the call fails).
 */
export async function lockDomainUserdata(ctx: LibxlCtx, domid: number, opts: UserdataLockOptions = {}): Promise<LockFile> {
  const path = await userdataPath(ctx, domid, 'domain-userdata-lock', 'l', opts.uuid);
  // XEN_LIB_DIR is there on a Xen host; colo-xl's own directory may not be yet
  mkdirSync(ctx.userdataDir, { recursive: true });
  let lock: LockFile;
  try {
    lock = await LockFile.acquire(path, {
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
      onWait: () => ctx.log.log('debug', 'libxl_internal.c:libxl__lock_file', `waiting for ${path}, held by another process`, domid),
    });
  } catch (e) {
    if (e instanceof LibxlError) ctx.log.log('error', 'libxl_internal.c:libxl__lock_domain_userdata', e.message, domid);
    throw e;
  }
  if (!(await ctx.xs.exists(domainPath(domid)))) {
    lock.release();
    throw ctx.log.fail(ERROR_LOCK_FAIL, 'libxl_internal.c:libxl__lock_domain_userdata', 'the domain went away while its userdata lock was taken', domid);
  }
  return lock;
}

/** Runs `fn` holding the domain's userdata lock. */
export async function withDomainUserdataLock<T>(ctx: LibxlCtx, domid: number, fn: (uuid: string | undefined) => Promise<T>, opts: UserdataLockOptions = {}): Promise<T> {
  const uuid = opts.uuid ?? (await domainUuid(ctx.xs, domid));
  const lock = await lockDomainUserdata(ctx, domid, { ...opts, uuid });
  try {
    return await fn(uuid);
  } finally {
    lock.release();
  }
}

/**
 * device_add_domain_config / device_remove_domain_config: put a device into the saved
 * configuration's `listKey` list, replacing the one with the same vdev, or (value undefined) take
 * it out. Adding to a domain with no saved configuration fails as in libxl; removing from one is
 * nothing to do.
 */
export async function updateDomainConfiguration(
  ctx: LibxlCtx,
  domid: number,
  listKey: string,
  vdev: string | null,
  value: Record<string, unknown> | undefined,
): Promise<void> {
  await withDomainUserdataLock(ctx, domid, async (uuid) => {
    let config: Record<string, unknown>;
    try {
      config = await getDomainConfiguration(ctx, domid, uuid);
    } catch (e) {
      if (e instanceof LibxlError && e.rc === ERROR_JSON_CONFIG_EMPTY) {
        if (value === undefined) return;
        // libxl fails here without a word; say what is missing
        throw ctx.log.fail(e.rc, 'libxl_disk.c:device_disk_add', 'the domain has no saved configuration (it was not created by xl or colo-xl)', domid);
      }
      throw e;
    }
    const list = Array.isArray(config[listKey]) ? (config[listKey] as Record<string, unknown>[]) : [];
    const kept = list.filter((d) => d.vdev !== vdev);
    if (value !== undefined) {
      const at = list.findIndex((d) => d.vdev === vdev);
      if (at >= 0) kept.splice(at, 0, value);
      else kept.push(value);
    }
    config[listKey] = kept;
    await setDomainConfiguration(ctx, domid, yajlStringify(config as JsonValue), uuid);
  });
}
