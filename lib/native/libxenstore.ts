/**
 * Xen's own client library, libxenstore.so.4 (Debian libxenstore4), through koffi, behind the
 * same `Xenstore` interface as colo-xl's client. Used to compare against (tests, benchmarks).
 *
 * Calls are synchronous C calls on the JS thread: the daemon must live in another process
 * (a daemon in this process could never answer). Watches follow the library's own pattern:
 * wait for xs_fileno() to become readable (poll() on a worker thread), then drain with
 * xs_check_watch() until EAGAIN.
 */
import koffi from 'koffi';
import { ColoXlError } from '../errors.js';
import type { TransactionOptions, Xenstore, XsOps, XsWatch } from '../xenstore/api.js';
import { XS_ERRNOS, XsError, XsTransactionConflict, isXsErrno, isXsError, type XsErrno, type XsPerm } from '../xenstore/messages.js';
import { WatchQueue } from '../xenstore/watch-queue.js';

const XS_PERM_READ = 1;
const XS_PERM_WRITE = 2;

/** libxenstore.so.4 (or koffi, or libc) could not be loaded: code NATIVE_LOAD_FAILED. */
export class NativeLoadError extends ColoXlError {
  constructor(
    readonly library: string,
    readonly debianPackage: string,
    options?: ErrorOptions,
  ) {
    super('NATIVE_LOAD_FAILED', `cannot load ${library} (install the Debian package ${debianPackage}): ${(options?.cause as Error | undefined)?.message ?? 'unknown error'}`, options);
  }
}

const errnoNames = new Map<number, XsErrno>(Object.entries(XS_ERRNOS).map(([k, v]) => [v, k as XsErrno]));

/** The C functions of libxenstore.so.4 (and libc's poll) as koffi binds them. */
export interface Lib {
  open: (flags: number) => bigint | null;
  close: (h: bigint) => void;
  read: (h: bigint, t: number, path: string, len: number[]) => bigint | null;
  write: (h: bigint, t: number, path: string, data: Buffer, len: number) => boolean;
  directory: (h: bigint, t: number, path: string, num: number[]) => bigint | null;
  mkdir: (h: bigint, t: number, path: string) => boolean;
  rm: (h: bigint, t: number, path: string) => boolean;
  getPerms: (h: bigint, t: number, path: string, num: number[]) => bigint | null;
  setPerms: (h: bigint, t: number, path: string, perms: Array<{ id: number; perms: number }>, num: number) => boolean;
  watch: (h: bigint, path: string, token: string) => boolean;
  unwatch: (h: bigint, path: string, token: string) => boolean;
  fileno: (h: bigint) => number;
  checkWatch: (h: bigint) => bigint | null;
  txStart: (h: bigint) => number;
  txEnd: (h: bigint, t: number, abort: boolean) => boolean;
  introduce: (h: bigint, domid: number, mfn: number | bigint, port: number) => boolean;
  setTarget: (h: bigint, domid: number, target: number) => boolean;
  resume: (h: bigint, domid: number) => boolean;
  release: (h: bigint, domid: number) => boolean;
  domainPath: (h: bigint, domid: number) => bigint | null;
  isIntroduced: (h: bigint, domid: number) => boolean;
  control: (h: bigint, cmd: string, data: Buffer, len: number) => bigint | null;
  free: (p: bigint) => void;
  poll: { async: (fds: Array<{ fd: number; events: number; revents: number }>, n: number, ms: number, cb: (err: unknown, r: number) => void) => void };
}

// The one koffi binding of the process: koffi registers struct type names process-wide, so a
// second load would fail; the mapping lives as long as the process, as a dlopen'd library does.
let lib: Lib | undefined;
let permsType: ReturnType<typeof koffi.struct>;

/** Loads libxenstore.so.4 (once); throws with the Debian package name when it is missing. */
export function loadLibxenstore(): Lib {
  if (lib) return lib;
  let xs: ReturnType<typeof koffi.load>;
  try {
    xs = koffi.load('libxenstore.so.4');
  } catch (e) {
    throw new NativeLoadError('libxenstore.so.4', 'libxenstore4', { cause: e });
  }
  const libc = koffi.load('libc.so.6');
  permsType = koffi.struct('xs_permissions', { id: 'unsigned int', perms: 'unsigned int' });
  const pollfd = koffi.struct('colo_pollfd', { fd: 'int', events: 'short', revents: 'short' });
  lib = {
    open: xs.func('void *xs_open(unsigned long flags)'),
    close: xs.func('void xs_close(void *h)'),
    read: xs.func('void *xs_read(void *h, uint32_t t, const char *path, _Out_ unsigned int *len)'),
    write: xs.func('bool xs_write(void *h, uint32_t t, const char *path, const void *data, unsigned int len)'),
    directory: xs.func('void *xs_directory(void *h, uint32_t t, const char *path, _Out_ unsigned int *num)'),
    mkdir: xs.func('bool xs_mkdir(void *h, uint32_t t, const char *path)'),
    rm: xs.func('bool xs_rm(void *h, uint32_t t, const char *path)'),
    getPerms: xs.func('void *xs_get_permissions(void *h, uint32_t t, const char *path, _Out_ unsigned int *num)'),
    setPerms: xs.func('xs_set_permissions', 'bool', ['void *', 'uint32_t', 'const char *', koffi.pointer(permsType), 'unsigned int']),
    watch: xs.func('bool xs_watch(void *h, const char *path, const char *token)'),
    unwatch: xs.func('bool xs_unwatch(void *h, const char *path, const char *token)'),
    fileno: xs.func('int xs_fileno(void *h)'),
    checkWatch: xs.func('void *xs_check_watch(void *h)'),
    txStart: xs.func('uint32_t xs_transaction_start(void *h)'),
    txEnd: xs.func('bool xs_transaction_end(void *h, uint32_t t, bool abort)'),
    introduce: xs.func('bool xs_introduce_domain(void *h, unsigned int domid, unsigned long mfn, unsigned int port)'),
    setTarget: xs.func('bool xs_set_target(void *h, unsigned int domid, unsigned int target)'),
    resume: xs.func('bool xs_resume_domain(void *h, unsigned int domid)'),
    release: xs.func('bool xs_release_domain(void *h, unsigned int domid)'),
    domainPath: xs.func('void *xs_get_domain_path(void *h, unsigned int domid)'),
    isIntroduced: xs.func('bool xs_is_domain_introduced(void *h, unsigned int domid)'),
    control: xs.func('void *xs_control_command(void *h, const char *cmd, const void *data, unsigned int len)'),
    free: libc.func('void free(void *p)'),
    poll: libc.func('poll', 'int', [koffi.pointer(pollfd), 'unsigned long', 'int']),
  } as unknown as Lib;
  return lib;
}

function fail(op: string, path?: string): never {
  const n = koffi.errno();
  const name = errnoNames.get(n);
  throw new XsError(name && isXsErrno(name) ? name : 'EIO', op, path, name ? undefined : `errno ${n}`);
}

/** Copies `len` bytes out of malloc'ed C memory, then frees it. */
function take(l: Lib, p: bigint, len: number): Buffer {
  // Buffer.from(Uint8Array) copies; a Buffer over the ArrayBuffer itself would read freed memory.
  const out = Buffer.from(new Uint8Array(len ? koffi.view(p, len) : new ArrayBuffer(0)));
  l.free(p);
  return out;
}

/** A char** block from libxenstore (pointers and strings in one allocation). */
function takeStrings(l: Lib, p: bigint, n: number): string[] {
  const strs = n ? (koffi.decode(p, 'char *', n) as string[]) : [];
  l.free(p);
  return strs;
}

class LibOps implements XsOps {
  constructor(
    protected readonly l: Lib,
    protected readonly h: bigint,
    protected readonly t: number,
  ) {}

  async readBuffer(path: string): Promise<Buffer> {
    const len = [0];
    const p = this.l.read(this.h, this.t, path, len);
    if (!p) fail('READ', path);
    return take(this.l, p, len[0]!);
  }
  async read(path: string): Promise<string> {
    return (await this.readBuffer(path)).toString('utf8');
  }
  async tryRead(path: string): Promise<string | undefined> {
    return this.read(path).catch((e: unknown) => {
      if (isXsError(e, 'ENOENT')) return undefined;
      throw e;
    });
  }
  async exists(path: string): Promise<boolean> {
    return (await this.tryRead(path)) !== undefined;
  }
  async write(path: string, value: string | Buffer): Promise<void> {
    const b = typeof value === 'string' ? Buffer.from(value) : value;
    if (!this.l.write(this.h, this.t, path, b, b.length)) fail('WRITE', path);
  }
  async mkdir(path: string): Promise<void> {
    if (!this.l.mkdir(this.h, this.t, path)) fail('MKDIR', path);
  }
  async rm(path: string): Promise<void> {
    if (!this.l.rm(this.h, this.t, path)) fail('RM', path);
  }
  async directory(path: string): Promise<string[]> {
    const num = [0];
    const p = this.l.directory(this.h, this.t, path, num);
    if (!p) fail('DIRECTORY', path);
    return takeStrings(this.l, p, num[0]!);
  }
  async getPerms(path: string): Promise<XsPerm[]> {
    const num = [0];
    const p = this.l.getPerms(this.h, this.t, path, num);
    if (!p) fail('GET_PERMS', path);
    const raw = (num[0] ? koffi.decode(p, permsType, num[0]) : []) as Array<{ id: number; perms: number }>;
    this.l.free(p);
    return raw.map((r) => ({
      domid: r.id,
      access: (['none', 'read', 'write', 'both'] as const)[(r.perms & XS_PERM_READ ? 1 : 0) | (r.perms & XS_PERM_WRITE ? 2 : 0)]!,
    }));
  }
  async setPerms(path: string, perms: readonly XsPerm[]): Promise<void> {
    const bits = { none: 0, read: XS_PERM_READ, write: XS_PERM_WRITE, both: XS_PERM_READ | XS_PERM_WRITE };
    const arr = perms.map((p) => ({ id: p.domid, perms: bits[p.access] }));
    if (!this.l.setPerms(this.h, this.t, path, arr, arr.length)) fail('SET_PERMS', path);
  }
}

export class LibxenstoreClient extends LibOps implements Xenstore {
  readonly kind = 'libxenstore';
  private readonly watches = new Map<string, WatchQueue>();
  private polling = false;
  private closed = false;
  private seq = 0;

  private constructor(l: Lib, h: bigint) {
    super(l, h, 0);
  }

  /**
   * xs_open(0). libxenstore takes the daemon's socket from the process environment
   * (XENSTORED_PATH, else XENSTORED_RUNDIR/socket) and offers no call that takes a path, so
   * which daemon answers is the environment's to say: the library never changes it.
   */
  static open(): LibxenstoreClient {
    const l = loadLibxenstore();
    const h = l.open(0);
    if (!h) fail('OPEN');
    return new LibxenstoreClient(l, h);
  }

  async transaction<T>(fn: (tx: XsOps) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    const attempts = opts.attempts ?? 16;
    for (let i = 0; i < attempts; i++) {
      const t = this.l.txStart(this.h);
      if (!t) fail('TRANSACTION_START');
      let result: T;
      try {
        result = await fn(new LibOps(this.l, this.h, t));
      } catch (e) {
        this.l.txEnd(this.h, t, true);
        throw e;
      }
      if (this.l.txEnd(this.h, t, false)) return result;
      if (koffi.errno() !== XS_ERRNOS.EAGAIN) fail('TRANSACTION_END');
    }
    throw new XsTransactionConflict(attempts);
  }

  async watch(path: string, token = `libxs-${++this.seq}`): Promise<XsWatch> {
    const w: WatchQueue = new WatchQueue(path, token, () => this.unwatch(w));
    this.watches.set(token, w);
    if (!this.l.watch(this.h, path, token)) {
      this.watches.delete(token);
      fail('WATCH', path);
    }
    this.pollLoop();
    return w;
  }

  async unwatch(w: WatchQueue): Promise<void> {
    this.watches.delete(w.token);
    if (!this.closed && !this.l.unwatch(this.h, w.path, w.token)) fail('UNWATCH', w.path);
  }

  private drain(): void {
    for (;;) {
      const p = this.l.checkWatch(this.h);
      if (!p) return;
      const [path, token] = takeStrings(this.l, p, 2);
      if (path !== undefined && token !== undefined) this.watches.get(token)?.push({ path, token });
    }
  }

  /** Waits (on a worker thread) for xs_fileno to turn readable, then drains on this thread. */
  private pollLoop(): void {
    if (this.polling || this.closed) return;
    this.polling = true;
    const fd = this.l.fileno(this.h);
    const round = (): void => {
      if (this.closed || this.watches.size === 0) {
        this.polling = false;
        return;
      }
      this.l.poll.async([{ fd, events: 1, revents: 0 }], 1, 100, () => {
        if (!this.closed) this.drain();
        round();
      });
    };
    this.drain();
    round();
  }

  async introduce(domid: number, mfn: number | bigint, eventChannel: number): Promise<void> {
    if (!this.l.introduce(this.h, domid, mfn, eventChannel)) fail('INTRODUCE');
  }
  async release(domid: number): Promise<void> {
    if (!this.l.release(this.h, domid)) fail('RELEASE');
  }
  async resume(domid: number): Promise<void> {
    if (!this.l.resume(this.h, domid)) fail('RESUME');
  }
  async getDomainPath(domid: number): Promise<string> {
    const p = this.l.domainPath(this.h, domid);
    if (!p) fail('GET_DOMAIN_PATH');
    const s = koffi.decode.string(p);
    this.l.free(p);
    return s;
  }
  async isDomainIntroduced(domid: number): Promise<boolean> {
    return this.l.isIntroduced(this.h, domid);
  }
  async setTarget(domid: number, target: number): Promise<void> {
    if (!this.l.setTarget(this.h, domid, target)) fail('SET_TARGET');
  }
  async resetWatches(): Promise<void> {
    // libxenstore has no call for RESET_WATCHES: drop ours one by one.
    for (const w of [...this.watches.values()]) await w.close();
  }
  async control(...args: string[]): Promise<string> {
    const [cmd = '', ...rest] = args;
    const data = Buffer.from(rest.map((a) => `${a}\0`).join(''));
    const p = this.l.control(this.h, cmd, data, data.length);
    if (!p) fail('CONTROL');
    const s = koffi.decode.string(p);
    this.l.free(p);
    return s.replace(/\0+$/, '');
  }
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.watches.values()) w.end();
    this.watches.clear();
    // Let a poll() in flight on the worker finish before the fd goes away.
    await new Promise((r) => setTimeout(r, this.polling ? 120 : 0));
    this.l.close(this.h);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
