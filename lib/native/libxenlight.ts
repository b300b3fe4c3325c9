/**
 * Xen's libxenlight (libxenlight.so.4.17, Debian libxenmisc4.17) through koffi: building and
 * destroying real domains is libxl's and libxenctrl's work, so colo-xl hands it the domain
 * configuration JSON it already writes byte for byte as xl does (libxl_domain_config_from_json),
 * and lets libxl do the rest with its own messages, logged by Xen's own stdio logger on stderr.
 *
 * Every call is synchronous (no libxl_asyncop_how): libxl runs its event loop inside the call,
 * forks hotplug scripts and reaps them with its own SIGCHLD handler, which it installs only while
 * it has children and only if nobody else handles SIGCHLD. So a process that uses this must not
 * have spawned children through Node first (Node's handler would make libxl abort); the CLI runs
 * these calls before anything else.
 *
 * libxl's structs are opaque here: each is allocated larger than any 4.17 layout, initialised and
 * disposed of by libxl itself, and read through libxl's own `*_to_json`.
 */
import koffi from 'koffi';
import { ColoXlError } from '../errors.js';
import { NativeLoadError } from './libxenstore.js';

/** A libxl call returned an error: `rc` is libxl's error number (libxl's messages went to stderr). */
export class LibxenlightError extends ColoXlError {
  constructor(
    readonly call: string,
    readonly rc: number,
  ) {
    super('LIBXENLIGHT_FAILED', `${call} failed (rc=${rc})`);
  }
}

// xentoollog_level
const XTL_DEBUG = 1;
const XTL_PROGRESS = 4;

/** LIBXL_VERSION in libxl.h. */
const LIBXL_VERSION = 0;

/** Bytes set aside for libxl_domain_config and libxl_dominfo: both far smaller in 4.17. */
const OPAQUE_BYTES = 64 * 1024;

interface Lib {
  ctxAlloc: (pctx: [bigint | null], version: number, flags: number, logger: bigint) => number;
  ctxFree: (ctx: bigint) => number;
  configInit: (p: Buffer) => void;
  configDispose: (p: Buffer) => void;
  configFromJson: (ctx: bigint, p: Buffer, json: string) => number;
  createNew: (ctx: bigint, p: Buffer, domid: [number], aoHow: null, consoleHow: null) => number;
  unpause: (ctx: bigint, domid: number, aoHow: null) => number;
  destroy: (ctx: bigint, domid: number, aoHow: null) => number;
  dominfoInit: (p: Buffer) => void;
  dominfoDispose: (p: Buffer) => void;
  domainInfo: (ctx: bigint, p: Buffer, domid: number) => number;
  dominfoToJson: (ctx: bigint, p: Buffer) => bigint | null;
  domidToName: (ctx: bigint, domid: number) => bigint | null;
  nameToDomid: (ctx: bigint, name: string, domid: [number]) => number;
  listDomain: (ctx: bigint, nb: [number]) => bigint | null;
  dominfoListFree: (list: bigint, nb: number) => void;
  createLogger: (f: bigint, level: number, flags: number) => bigint | null;
  destroyLogger: (lg: bigint) => void;
  fdopen: (fd: number, mode: string) => bigint | null;
  free: (p: bigint) => void;
}

// One binding a process, as for libxenstore: the libraries stay mapped for its life.
let lib: Lib | undefined;

function load(): Lib {
  if (lib) return lib;
  let xl: ReturnType<typeof koffi.load>;
  let xtl: ReturnType<typeof koffi.load>;
  try {
    xl = koffi.load('libxenlight.so.4.17');
    xtl = koffi.load('libxentoollog.so.1');
  } catch (e) {
    throw new NativeLoadError('libxenlight.so.4.17', 'libxenmisc4.17', { cause: e });
  }
  const libc = koffi.load('libc.so.6');
  lib = {
    ctxAlloc: xl.func('int libxl_ctx_alloc(_Out_ void **pctx, int version, unsigned int flags, void *lg)'),
    ctxFree: xl.func('int libxl_ctx_free(void *ctx)'),
    configInit: xl.func('void libxl_domain_config_init(void *p)'),
    configDispose: xl.func('void libxl_domain_config_dispose(void *p)'),
    configFromJson: xl.func('int libxl_domain_config_from_json(void *ctx, void *p, const char *s)'),
    createNew: xl.func('int libxl_domain_create_new(void *ctx, void *d_config, _Out_ uint32_t *domid, void *ao_how, void *aop_console_how)'),
    unpause: xl.func('int libxl_domain_unpause(void *ctx, uint32_t domid, void *ao_how)'),
    destroy: xl.func('int libxl_domain_destroy(void *ctx, uint32_t domid, void *ao_how)'),
    dominfoInit: xl.func('void libxl_dominfo_init(void *p)'),
    dominfoDispose: xl.func('void libxl_dominfo_dispose(void *p)'),
    domainInfo: xl.func('int libxl_domain_info(void *ctx, void *info_r, uint32_t domid)'),
    dominfoToJson: xl.func('void *libxl_dominfo_to_json(void *ctx, void *p)'),
    domidToName: xl.func('void *libxl_domid_to_name(void *ctx, uint32_t domid)'),
    nameToDomid: xl.func('int libxl_name_to_domid(void *ctx, const char *name, _Out_ uint32_t *domid)'),
    listDomain: xl.func('void *libxl_list_domain(void *ctx, _Out_ int *nb_domain_out)'),
    dominfoListFree: xl.func('void libxl_dominfo_list_free(void *list, int nb_domain)'),
    createLogger: xtl.func('void *xtl_createlogger_stdiostream(void *f, int min_level, unsigned int flags)'),
    destroyLogger: xtl.func('void xtl_logger_destroy(void *logger)'),
    fdopen: libc.func('void *fdopen(int fd, const char *mode)'),
    free: libc.func('void free(void *p)'),
  } as unknown as Lib;
  return lib;
}

/** A C string libxl allocated, copied out and freed. */
function takeString(l: Lib, p: bigint | null): string | undefined {
  if (!p) return undefined;
  const s = koffi.decode(p, 'char', -1) as string;
  l.free(p);
  return s;
}

/** libxl_dominfo as libxl_dominfo_to_json writes it (the fields colo-xl reads). */
export interface Dominfo {
  uuid: string;
  domid: number;
  running: boolean;
  blocked: boolean;
  paused: boolean;
  shutdown: boolean;
  dying: boolean;
  current_memkb: number;
  cpu_time: number;
  vcpu_online: number;
  [field: string]: unknown;
}

export interface LibxenlightOptions {
  /** xl's -v count: each lowers the logger's level from XTL_PROGRESS towards XTL_DEBUG. */
  verbose?: number;
}

/**
 * A libxl_ctx on this host's hypervisor (libxl_ctx_alloc), with Xen's stdio logger on stderr as
 * xl sets it up. Close it (or `using`) to free the context and the logger.
 */
export class Libxenlight implements Disposable {
  private ctx: bigint;
  private readonly logger: bigint;
  private readonly l: Lib;

  constructor(opts: LibxenlightOptions = {}) {
    this.l = load();
    const stream = this.l.fdopen(2, 'w');
    const level = Math.max(XTL_DEBUG, XTL_PROGRESS - (opts.verbose ?? 0));
    const logger = stream ? this.l.createLogger(stream, level, 0) : null;
    if (!logger) throw new LibxenlightError('xtl_createlogger_stdiostream', -1);
    this.logger = logger;
    const out: [bigint | null] = [null];
    const rc = this.l.ctxAlloc(out, LIBXL_VERSION, 0, logger);
    if (rc !== 0 || !out[0]) {
      this.l.destroyLogger(logger);
      throw new LibxenlightError('libxl_ctx_alloc', rc);
    }
    this.ctx = out[0];
  }

  private live(): bigint {
    if (!this.ctx) throw new ColoXlError('LIBXENLIGHT_CLOSED', 'the libxl context is closed');
    return this.ctx;
  }

  /**
   * libxl_domain_config_from_json, then libxl_domain_create_new: builds the domain, its devices
   * (hotplug scripts included) and its device model, and leaves it paused. Answers its domid.
   */
  domainCreateNew(configJson: string): number {
    const ctx = this.live();
    const config = Buffer.alloc(OPAQUE_BYTES);
    this.l.configInit(config);
    try {
      const rc = this.l.configFromJson(ctx, config, configJson);
      if (rc !== 0) throw new LibxenlightError('libxl_domain_config_from_json', rc);
      const domid: [number] = [0];
      const created = this.l.createNew(ctx, config, domid, null, null);
      if (created !== 0) throw new LibxenlightError('libxl_domain_create_new', created);
      return domid[0];
    } finally {
      this.l.configDispose(config);
    }
  }

  /** libxl_domain_unpause. */
  domainUnpause(domid: number): void {
    const rc = this.l.unpause(this.live(), domid, null);
    if (rc !== 0) throw new LibxenlightError('libxl_domain_unpause', rc);
  }

  /** libxl_domain_destroy: the domain, its devices and its device model. */
  domainDestroy(domid: number): void {
    const rc = this.l.destroy(this.live(), domid, null);
    if (rc !== 0) throw new LibxenlightError('libxl_domain_destroy', rc);
  }

  /** libxl_domain_info, read through libxl_dominfo_to_json; undefined when there is no such domain. */
  domainInfo(domid: number): Dominfo | undefined {
    const ctx = this.live();
    const info = Buffer.alloc(OPAQUE_BYTES);
    this.l.dominfoInit(info);
    try {
      if (this.l.domainInfo(ctx, info, domid) !== 0) return undefined;
      const json = takeString(this.l, this.l.dominfoToJson(ctx, info));
      if (json === undefined) throw new LibxenlightError('libxl_dominfo_to_json', -1);
      return JSON.parse(json) as Dominfo;
    } finally {
      this.l.dominfoDispose(info);
    }
  }

  /**
   * libxl_list_domain: every domain the hypervisor has, dom0 first, as libxl_dominfo_to_json
   * reads each. The array's stride is sizeof(libxl_dominfo), learnt from libxl_dominfo_init.
   */
  listDomain(): Dominfo[] {
    const ctx = this.live();
    const nb: [number] = [0];
    const list = this.l.listDomain(ctx, nb);
    if (!list) throw new LibxenlightError('libxl_list_domain', -1);
    try {
      const size = this.dominfoSize();
      const out: Dominfo[] = [];
      for (let i = 0; i < nb[0]; i++) {
        // a shallow copy of element i: its pointers (ssid_label) stay valid until the list is freed
        const one = Buffer.from(koffi.decode(list, i * size, 'uint8_t', size) as number[]);
        const json = takeString(this.l, this.l.dominfoToJson(ctx, one));
        if (json === undefined) throw new LibxenlightError('libxl_dominfo_to_json', -1);
        out.push(JSON.parse(json) as Dominfo);
      }
      return out;
    } finally {
      this.l.dominfoListFree(list, nb[0]);
    }
  }

  /** sizeof(libxl_dominfo): the extent libxl_dominfo_init writes (it memsets the whole struct). */
  private dominfoSize(): number {
    const probe = Buffer.alloc(4096, 0xa5);
    this.l.dominfoInit(probe);
    let end = probe.length;
    while (end > 0 && probe[end - 1] === 0xa5) end--;
    this.l.dominfoDispose(probe);
    // the struct holds 64-bit fields, so its size is a multiple of 8 (trailing padding included)
    return Math.ceil(end / 8) * 8;
  }

  /** libxl_domid_to_name. */
  domidToName(domid: number): string | undefined {
    return takeString(this.l, this.l.domidToName(this.live(), domid));
  }

  /** libxl_name_to_domid; undefined when no domain has the name. */
  nameToDomid(name: string): number | undefined {
    const out: [number] = [0];
    return this.l.nameToDomid(this.live(), name, out) === 0 ? out[0] : undefined;
  }

  close(): void {
    if (!this.ctx) return;
    this.l.ctxFree(this.ctx);
    this.l.destroyLogger(this.logger);
    this.ctx = 0n;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
