/**
 * The domain configuration libxl keeps as userdata (`xl list -l` shows it, migration ships it),
 * changed under libxl's per-domain userdata lock when a device comes or goes.
 */
import { join } from 'node:path';
import { yajlStringify, type JsonValue } from '../json/value.js';
import { PidLock } from '../util/pid-lock.js';
import type { LibxlCtx } from './ctx.js';
import { domainUuid, getDomainConfiguration, setDomainConfiguration } from './domain.js';
import { ERROR_JSON_CONFIG_EMPTY, ERROR_LOCK_FAIL, LibxlError } from './errors.js';

const LOCK_WAIT_MS = 10_000;

// libxl__lock_domain_userdata: one holder per domain at a time
async function lockDomainUserdata(ctx: LibxlCtx, domid: number): Promise<PidLock> {
  const path = join(ctx.userdataDir, `userdata-d${domid}.domain-userdata-lock`);
  const got = await PidLock.acquire(path, LOCK_WAIT_MS);
  if (typeof got === 'number') throw ctx.log.fail(ERROR_LOCK_FAIL, 'libxl_internal.c:libxl__lock_domain_userdata', `cannot lock ${path} (held by process ${got})`, domid);
  return got;
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
  const lock = await lockDomainUserdata(ctx, domid);
  try {
    const uuid = await domainUuid(ctx.xs, domid);
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
  } finally {
    lock.release();
  }
}
