/**
 * koffi bindings to Debian's libxlutil.so.4.17 (the xl disk-spec parser) and libxenlight.so.4.17
 * (libxl_device_disk and its JSON form), plus the few libc calls needed to capture the parser's
 * report stream. No libxl context is created: neither xlu_disk_parse nor
 * libxl_device_disk_to_json(NULL, ...) needs one, so this works without a hypervisor.
 *
 * libxl_device_disk is handled as an opaque, zeroed buffer: only libxl's own init, parse, to_json
 * and dispose touch it, so its layout never has to be mirrored here.
 */
import koffi from 'koffi';

export const LIBXLUTIL_SONAME = 'libxlutil.so.4.17';
export const LIBXENLIGHT_SONAME = 'libxenlight.so.4.17';
export const LIBC_SONAME = 'libc.so.6';
/** The Debian package that ships both libraries. */
export const LIBXLUTIL_DEBIAN_PACKAGE = 'libxenmisc4.17';

// sizeof(libxl_device_disk) is 144 on x86_64 4.17; leave room for any other build.
const DISK_BUFFER_SIZE = 512;
// glibc's value for unbuffered stdio (setvbuf).
const IONBF = 2;

type Ptr = bigint;
type NullablePtr = bigint | null;

export interface Natives {
  malloc: (size: number) => NullablePtr;
  calloc: (n: number, size: number) => NullablePtr;
  free: (p: NullablePtr) => void;
  strlen: (p: Ptr) => number | bigint;
  memcpy: (dst: Buffer, src: Ptr, n: number) => NullablePtr;
  openMemstream: (ptrloc: Ptr, sizeloc: Ptr) => NullablePtr;
  fopen: (path: string, mode: string) => NullablePtr;
  setvbuf: (f: Ptr, buf: null, mode: number, size: number) => number;
  fflush: (f: Ptr) => number;
  fclose: (f: Ptr) => number;
  xluCfgInit: (report: Ptr, source: string) => NullablePtr;
  xluCfgDestroy: (cfg: Ptr) => void;
  xluDiskParse: (cfg: Ptr, nspecs: number, specs: string[], disk: Ptr) => number;
  diskInit: (disk: Ptr) => void;
  diskDispose: (disk: Ptr) => void;
  diskToJson: (ctx: null, disk: Ptr) => NullablePtr;
}

/** What one xlu_disk_parse call produced (when the process survived it). */
export interface ParseOutcome {
  rc: number;
  /** libxl_device_disk_to_json(NULL, disk) bytes after a successful parse, else null. */
  jsonBytes: Buffer | null;
  /** Everything libxlu printed to its report stream. */
  reportBytes: Buffer;
}

let natives: Natives | null = null;
let loadError: Error | null = null;
// Per-process scratch owned by the bindings: the disk buffer and open_memstream's two out cells.
let diskBuf: Ptr = 0n;
let memCells: Ptr = 0n;

// The C prototypes bound from each library. A binding's name is its C name in camelCase, with
// libxl_device_ dropped (libxl_device_disk_init is diskInit).
const PROTOTYPES: Record<'libc' | 'xlu' | 'xl', string> = {
  libc:
    'void *malloc(size_t size); void *calloc(size_t n, size_t size); void free(void *p); size_t strlen(void *s); ' +
    'void *memcpy(void *dst, void *src, size_t n); void *open_memstream(void *ptrloc, void *sizeloc); ' +
    'void *fopen(const char *path, const char *mode); int setvbuf(void *f, void *buf, int mode, size_t size); ' +
    'int fflush(void *f); int fclose(void *f)',
  xlu:
    'void *xlu_cfg_init(void *report, const char *report_source); void xlu_cfg_destroy(void *cfg); ' +
    'int xlu_disk_parse(void *cfg, int nspecs, const char **specs, void *disk)',
  xl: 'void libxl_device_disk_init(void *disk); void libxl_device_disk_dispose(void *disk); void *libxl_device_disk_to_json(void *ctx, void *disk)',
};

function bindingName(prototype: string): string {
  const c = /(\w+)\s*\(/.exec(prototype)![1]!.replace(/^libxl_device_/, '');
  return c.replace(/_(\w)/g, (_, ch: string) => ch.toUpperCase());
}

function loadNatives(): Natives {
  const libs = { libc: koffi.load(LIBC_SONAME), xlu: koffi.load(LIBXLUTIL_SONAME), xl: koffi.load(LIBXENLIGHT_SONAME) };
  const out: Record<string, unknown> = {};
  for (const [lib, prototypes] of Object.entries(PROTOTYPES) as [keyof typeof libs, string][]) {
    for (const prototype of prototypes.split(';').map((p) => p.trim())) out[bindingName(prototype)] = libs[lib].func(prototype);
  }
  return out as unknown as Natives;
}

/** Loads the libraries once; throws an Error naming the Debian package when they are missing. */
export function libxlutilNatives(): Natives {
  if (natives) return natives;
  if (loadError) throw loadError;
  try {
    const n = loadNatives();
    const disk = n.calloc(1, DISK_BUFFER_SIZE);
    const cells = n.calloc(1, 16);
    if (!disk || !cells) throw new Error('out of memory');
    diskBuf = disk;
    memCells = cells;
    natives = n;
    return n;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    loadError = new Error(
      `cannot load ${LIBXLUTIL_SONAME} and ${LIBXENLIGHT_SONAME} through koffi (${why}): ` +
        `install the Debian package ${LIBXLUTIL_DEBIAN_PACKAGE} (apt-get install ${LIBXLUTIL_DEBIAN_PACKAGE})`,
    );
    throw loadError;
  }
}

// memcpy into a JS-owned Buffer: a koffi.view per call would pin native bookkeeping until a
// later GC sweep, which shows up as growth over many calls.
let scratch = Buffer.allocUnsafeSlow(4096);
function copyBytes(n: Natives, p: Ptr, len: number): Buffer {
  if (len > scratch.length) scratch = Buffer.allocUnsafeSlow(2 * len);
  if (len > 0) n.memcpy(scratch, p, len);
  return Buffer.from(scratch.subarray(0, len));
}

function cString(n: Natives, p: Ptr): Buffer {
  return copyBytes(n, p, Number(n.strlen(p)));
}

// The part shared by both report-stream kinds: init, parse, JSON, dispose, destroy.
function parseInto(n: Natives, report: Ptr, specs: readonly string[], source: string): Omit<ParseOutcome, 'reportBytes'> {
  const cfg = n.xluCfgInit(report, source);
  if (!cfg) throw new Error('xlu_cfg_init failed');
  n.diskInit(diskBuf);
  try {
    const rc = n.xluDiskParse(cfg, specs.length, specs as string[], diskBuf);
    let jsonBytes: Buffer | null = null;
    if (rc === 0) {
      const j = n.diskToJson(null, diskBuf);
      if (!j) throw new Error('libxl_device_disk_to_json returned NULL');
      jsonBytes = cString(n, j);
      n.free(j);
    }
    return { rc, jsonBytes };
  } finally {
    n.diskDispose(diskBuf);
    n.xluCfgDestroy(cfg);
  }
}

/**
 * Runs xlu_disk_parse on `specs` (one disk, nspecs = specs.length) with an open_memstream report.
 * Must not be given specs that can jam the flex scanner (see mayJamScanner): libxlu then calls
 * exit(2) and takes this process down.
 */
export function parseInMemory(specs: readonly string[], source: string): ParseOutcome {
  const n = libxlutilNatives();
  const f = n.openMemstream(memCells, memCells + 8n);
  if (!f) throw new Error('open_memstream failed');
  let out: Omit<ParseOutcome, 'reportBytes'>;
  try {
    out = parseInto(n, f, specs, source);
  } finally {
    n.fclose(f);
  }
  const buf = koffi.decode(memCells, 'void *') as NullablePtr;
  const size = Number(koffi.decode(memCells, 8, 'size_t') as number | bigint);
  const reportBytes = buf ? copyBytes(n, buf, size) : Buffer.alloc(0);
  n.free(buf);
  return { ...out, reportBytes };
}

/**
 * Same, but the report goes unbuffered to the file `reportPath`, so that what libxlu printed is
 * still there when the scanner kills the process. Used by the isolated child only.
 */
export function parseToFile(specs: readonly string[], source: string, reportPath: string): Omit<ParseOutcome, 'reportBytes'> {
  const n = libxlutilNatives();
  const f = n.fopen(reportPath, 'w');
  if (!f) throw new Error(`fopen ${reportPath} failed`);
  try {
    n.setvbuf(f, null, IONBF, 0);
    return parseInto(n, f, specs, source);
  } finally {
    n.fclose(f);
  }
}
