/**
 * The xenstore wire protocol (Xen's public/io/xs_wire.h and docs/misc/xenstore.txt) as data:
 * message types, the header, limits, error names, path rules and permission strings.
 * Nothing here does I/O.
 */
import { ColoXlError } from '../errors.js';

/** enum xsd_sockmsg_type, Xen 4.17 numbering (20, XS_RESTRICT, was removed). */
export const XsOp = {
  CONTROL: 0,
  DIRECTORY: 1,
  READ: 2,
  GET_PERMS: 3,
  WATCH: 4,
  UNWATCH: 5,
  TRANSACTION_START: 6,
  TRANSACTION_END: 7,
  INTRODUCE: 8,
  RELEASE: 9,
  GET_DOMAIN_PATH: 10,
  WRITE: 11,
  MKDIR: 12,
  RM: 13,
  SET_PERMS: 14,
  WATCH_EVENT: 15,
  ERROR: 16,
  IS_DOMAIN_INTRODUCED: 17,
  RESUME: 18,
  SET_TARGET: 19,
  RESET_WATCHES: 21,
  DIRECTORY_PART: 22,
} as const;
export type XsOpName = keyof typeof XsOp;
export type XsOpCode = (typeof XsOp)[XsOpName];

const opNames = new Map<number, XsOpName>(Object.entries(XsOp).map(([k, v]) => [v, k as XsOpName]));

/** The op's name for messages and errors ("READ"), or "OP<n>" for a number outside the enum. */
export function opName(type: number): string {
  return opNames.get(type) ?? `OP${type}`;
}

export function isKnownOp(type: number): type is XsOpCode {
  return opNames.has(type);
}

export const HEADER_SIZE = 16;
/** XENSTORE_PAYLOAD_MAX: a longer payload is a protocol violation, not an error reply. */
export const PAYLOAD_MAX = 4096;
/** XENSTORE_ABS_PATH_MAX / XENSTORE_REL_PATH_MAX. */
export const ABS_PATH_MAX = 3072;
export const REL_PATH_MAX = 2048;

/** One message: the 16-byte header (type, req_id, tx_id, len) and its payload. */
export interface Packet {
  type: number;
  reqId: number;
  txId: number;
  payload: Buffer;
}

/** xsd_errors[] of Xen 4.17, in table order, with Linux errno numbers. */
export const XS_ERRNOS = {
  EINVAL: 22,
  EACCES: 13,
  EEXIST: 17,
  EISDIR: 21,
  ENOENT: 2,
  ENOMEM: 12,
  ENOSPC: 28,
  EIO: 5,
  ENOTEMPTY: 39,
  ENOSYS: 38,
  EROFS: 30,
  EBUSY: 16,
  EAGAIN: 11,
  EISCONN: 106,
  E2BIG: 7,
  EPERM: 1,
} as const;
export type XsErrno = keyof typeof XS_ERRNOS;

export function isXsErrno(name: string): name is XsErrno {
  return Object.prototype.hasOwnProperty.call(XS_ERRNOS, name);
}

/** What an XsError reports: an xsd_errors[] name, or ECONNRESET for a connection that went away. */
export type XsErrnoName = XsErrno | 'ECONNRESET';

/**
 * An ERROR reply (or a client-side failure described the same way), with what was asked.
 * `code` is `XS_<errno>` (XS_ENOENT, XS_EAGAIN, XS_ECONNRESET...), `errnoName` the bare name the
 * daemon sent and `errno` its Linux number, as xs_* calls leave in errno.
 */
export class XsError extends ColoXlError {
  readonly errno: number;
  constructor(
    readonly errnoName: XsErrnoName,
    readonly op?: string,
    readonly path?: string,
    detail?: string,
  ) {
    super(
      `XS_${errnoName}`,
      `xenstore ${op ?? 'request'}${path !== undefined ? ` ${path}` : ''}: ${errnoName}${detail ? ` (${detail})` : ''}`,
    );
    this.errno = errnoName === 'ECONNRESET' ? 104 : XS_ERRNOS[errnoName];
  }
}

/** Whether `e` is an XsError carrying `errno` (the test every caller of tryRead-like code makes). */
export function isXsError(e: unknown, errno: XsErrnoName): e is XsError {
  return e instanceof XsError && e.errnoName === errno;
}

/** A transaction that kept failing with EAGAIN after its allowed attempts (code XS_EAGAIN). */
export class XsTransactionConflict extends XsError {
  constructor(readonly attempts: number) {
    super('EAGAIN', 'TRANSACTION_END', undefined, `conflict persisted after ${attempts} attempts`);
  }
}

// ---- paths --------------------------------------------------------------------------------

const VALID_CHARS = /^[A-Za-z0-9\-/_@]*$/;

/** Special watch paths the daemon fires itself. */
export const INTRODUCE_DOMAIN = '@introduceDomain';
export const RELEASE_DOMAIN = '@releaseDomain';

/** Length xenstored charges against the path quota: "/local/domain/<id>/" is free. */
export function chargedPathLength(path: string): number {
  const m = /^\/local\/domain\/(\d{1,5})\//.exec(path);
  return m ? path.length - m[0].length : path.length;
}

/**
 * Syntactic validity of an absolute path as C xenstored's is_valid_nodename checks it: starts
 * with "/" (or "@" where special paths are allowed), no trailing "/" except the root, no "//",
 * only [A-Za-z0-9-/_@], and the charged length within REL_PATH_MAX.
 */
export function isValidPath(path: string, allowSpecial = false, maxLen = REL_PATH_MAX): boolean {
  if (!(path.startsWith('/') || (allowSpecial && path.startsWith('@')))) return false;
  if (path.length > 1 && path.endsWith('/')) return false;
  if (path.includes('//')) return false;
  if (chargedPathLength(path) > maxLen) return false;
  return VALID_CHARS.test(path);
}

/** Relative paths are relative to the connection's home, "/local/domain/<domid>". */
export function canonicalPath(path: string, domid: number): string {
  if (path.startsWith('/') || path.startsWith('@')) return path;
  return `${domainPath(domid)}/${path}`;
}

export function domainPath(domid: number): string {
  return `/local/domain/${domid}`;
}

export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** True when `path` is `ancestor` or lies below it. */
export function isSubpath(path: string, ancestor: string): boolean {
  if (path === ancestor) return true;
  if (ancestor === '/') return path.startsWith('/');
  return path.startsWith(ancestor) && path.charCodeAt(ancestor.length) === 0x2f;
}

// ---- permissions --------------------------------------------------------------------------

export type PermAccess = 'none' | 'read' | 'write' | 'both';
export interface XsPerm {
  domid: number;
  access: PermAccess;
}

const ACCESS_CHAR: Record<PermAccess, string> = { none: 'n', read: 'r', write: 'w', both: 'b' };
const CHAR_ACCESS: Record<string, PermAccess> = { n: 'none', r: 'read', w: 'write', b: 'both' };

export function formatPerm(p: XsPerm): string {
  return `${ACCESS_CHAR[p.access]}${p.domid}`;
}

/** "r5" -> { domid: 5, access: 'read' }; throws XsError EINVAL on anything else. */
export function parsePerm(s: string): XsPerm {
  const access = CHAR_ACCESS[s[0] ?? ''];
  const digits = s.slice(1);
  if (!access || !/^\d{1,10}$/.test(digits)) throw new XsError('EINVAL', 'SET_PERMS', undefined, `bad permission ${JSON.stringify(s)}`);
  const domid = Number(digits);
  if (domid > 0xffffffff) throw new XsError('EINVAL', 'SET_PERMS', undefined, `domid out of range in ${JSON.stringify(s)}`);
  return { domid, access };
}

export function canRead(a: PermAccess): boolean {
  return a === 'read' || a === 'both';
}

export function canWrite(a: PermAccess): boolean {
  return a === 'write' || a === 'both';
}

// ---- payload strings ----------------------------------------------------------------------

/** Splits a payload into its NUL-terminated strings; bytes after the last NUL are ignored. */
export function splitStrings(payload: Buffer): string[] {
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const nul = payload.indexOf(0, start);
    if (nul < 0) return out;
    out.push(payload.toString('utf8', start, nul));
    start = nul + 1;
  }
}

/** Joins strings each followed by a NUL (the shape of most payloads). */
export function joinStrings(parts: readonly string[]): Buffer {
  return Buffer.from(parts.map((p) => `${p}\0`).join(''), 'utf8');
}
