/**
 * What libxl knows about a domain that the disk code asks for: whether it exists and its type,
 * names and ids, and the domain configuration kept as userdata.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { XsOps } from '../xenstore/api.js';
import type { LibxlCtx } from './ctx.js';
import { ERROR_FAIL, ERROR_INVAL, ERROR_JSON_CONFIG_EMPTY, LibxlError } from './errors.js';
import type { DomainType } from './types/domain-config.js';

// libxl__xs_get_dompath
export function domainPath(domid: number): string {
  return `/local/domain/${domid}`;
}

// libxl__xs_libxl_path
export function libxlPath(domid: number): string {
  return `/libxl/${domid}`;
}

/**
 * libxl__domain_type. Without a hypervisor to ask, a domain exists when its xenstore home does,
 * and its type is what libxl recorded at creation (/libxl/<domid>/type); a domain libxl did not
 * create (dom0, say) is PV.
 */
export async function domainType(ctx: LibxlCtx, domid: number): Promise<DomainType> {
  const [exists, t] = await Promise.all([ctx.xs.exists(domainPath(domid)), ctx.xs.tryRead(`${libxlPath(domid)}/type`)]);
  if (!exists) {
    throw ctx.log.fail(ERROR_FAIL, 'libxl_dom.c:libxl__domain_type', `unable to get domain type for domid=${domid}`);
  }
  return t === 'hvm' || t === 'pvh' ? t : 'pv';
}

// libxl_domid_to_name
export async function domidToName(ops: XsOps, domid: number): Promise<string | undefined> {
  return ops.tryRead(`${domainPath(domid)}/name`);
}

// libxl_name_to_domid: the domains are the entries under /local/domain
export async function nameToDomid(ctx: LibxlCtx, name: string): Promise<number> {
  let ids: string[] = [];
  try {
    ids = await ctx.xs.directory('/local/domain');
  } catch {
    // no domains at all
  }
  for (const id of ids) {
    if (/^\d+$/.test(id) && (await domidToName(ctx.xs, Number(id))) === name) return Number(id);
  }
  throw new LibxlError(ERROR_INVAL, `no domain named ${name}`);
}

/** strtoul(s, NULL, 10) of an all-digit string: wraps modulo 2^64, then to uint32_t. */
function digitsToDomid(s: string): number {
  return s === '' ? 0 : Number(BigInt.asUintN(32, BigInt.asUintN(64, BigInt(s))));
}

// libxl_domain_qualifier_to_domid: all digits is an id ("" is 0), anything else a name
export async function domainQualifierToDomid(ctx: LibxlCtx, q: string): Promise<number> {
  if (/^[0-9]*$/.test(q)) return digitsToDomid(q);
  return nameToDomid(ctx, q);
}

// libxl__resolve_domid: a backend given by name or id
export async function resolveDomid(ctx: LibxlCtx, name: string | null, current: number): Promise<number> {
  if (name === null) return current;
  return domainQualifierToDomid(ctx, name);
}

/** The domain's UUID, from the /vm/<uuid> path libxl links it to. */
export async function domainUuid(ops: XsOps, domid: number): Promise<string | undefined> {
  const vm = await ops.tryRead(`${domainPath(domid)}/vm`);
  return vm?.split('/').pop() || undefined;
}

/**
 * libxl_dom.c:libxl__userdata_path: `<dir>/userdata-<wh>.<domid>.<uuid>.<key>`, `wh` being `d`
 * for the data, `n` for a store in progress and `l` for a lock; the names real xl uses, so each
 * toolstack finds what the other saved. The domain's UUID may be passed in by a caller that reads
 * and writes in one go.
 */
export async function userdataPath(ctx: LibxlCtx, domid: number, key: string, wh: 'd' | 'n' | 'l', uuid?: string): Promise<string> {
  const u = uuid ?? (await domainUuid(ctx.xs, domid)) ?? '00000000-0000-0000-0000-000000000000';
  return join(ctx.userdataDir, `userdata-${wh}.${domid}.${u}.${key}`);
}

// libxl__get_domain_configuration over libxl__userdata_retrieve: the JSON xl saved when it created the domain
export async function getDomainConfiguration(ctx: LibxlCtx, domid: number, uuid?: string): Promise<Record<string, unknown>> {
  const path = await userdataPath(ctx, domid, 'libxl-json', 'd', uuid);
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (e) {
    // no file is no configuration; libxl does not log this one: for some callers it is not an error
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new LibxlError(ERROR_JSON_CONFIG_EMPTY, 'domain configuration is empty');
    throw ctx.log.fail(ERROR_FAIL, 'libxl_internal.c:libxl__get_domain_configuration', `failed to retrieve domain configuration: ${(e as Error).message}`, domid);
  }
  if (data.length === 0) throw ctx.log.fail(ERROR_FAIL, 'libxl_dom.c:libxl__userdata_retrieve', `userdata file ${path} is empty`);
  // libxl stores the C string with its terminating NUL and parses up to it
  const end = data.indexOf(0);
  const text = data.subarray(0, end < 0 ? data.length : end).toString('utf8');
  if (text.length === 0) throw new LibxlError(ERROR_JSON_CONFIG_EMPTY, 'domain configuration is empty');
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw ctx.log.fail(ERROR_FAIL, 'libxl_json.c:libxl__object_from_json', `unable to parse the domain configuration: ${(e as Error).message}`, domid);
  }
}

/**
 * libxl__set_domain_configuration over libxl__userdata_store: the JSON and its NUL, as libxl
 * writes it, into the `n` file, then renamed over the `d` one. The caller holds the userdata lock.
 */
export async function setDomainConfiguration(ctx: LibxlCtx, domid: number, json: string, uuid?: string): Promise<void> {
  const u = uuid ?? (await domainUuid(ctx.xs, domid));
  const [path, tmp] = await Promise.all([userdataPath(ctx, domid, 'libxl-json', 'd', u), userdataPath(ctx, domid, 'libxl-json', 'n', u)]);
  mkdirSync(ctx.userdataDir, { recursive: true });
  writeFileSync(tmp, Buffer.concat([Buffer.from(json, 'utf8'), Buffer.alloc(1)]), { mode: 0o600 });
  renameSync(tmp, path);
}
