/**
 * The actions of libxlutil's disk scanner (libxlu_disk_l.l): what each token of
 * grammar/disk.ne does to the disk being parsed, with libxlu's checks and error texts.
 */
import { ColoXlError, InternalError } from '../../errors.js';
import { atoi } from '../../util/cstr.js';
import type { DeviceDisk, DiskBackend, DiskFormat, DiskSpecification } from '../../libxl/types/disk.js';

/** One message libxlu printed: `message[: near `near'] in `spec'`. */
export interface DiskSpecMessage {
  message: string;
  /** The token quoted after "near", or null when libxlu quotes none. */
  near: string | null;
  /** The specification string being scanned when the message was printed. */
  spec: string | null;
}

/** A lexer token as moo hands it over (type, text and where it started). */
export interface DiskToken {
  type: string;
  text: string;
  offset: number;
}

/**
 * What flex does when the scanner itself fails: print the message and exit(2). libxlu reaches it
 * for a '=' that no rule takes (the error state) followed by a newline.
 */
export class DiskScannerFatal extends ColoXlError {
  readonly exitStatus = 2;
  /** Everything printed: libxlu's messages so far, then flex's own line. */
  readonly report: string;
  constructor(
    readonly fatal: string,
    readonly reportBefore = '',
  ) {
    super('XLU_DISK_SCANNER_FATAL', fatal);
    this.report = `${reportBefore}${fatal}\n`;
  }
}

// DiskParseContext in libxlu_disk_i.h: this state lives across all strings of one parse.
export class DiskParseContext {
  /** Set by the first error; later errors still print (until a rule stops the scan). */
  err = false;
  accessSet = false;
  hadDeprPrefix = false;
  spec: string | null = null;
  readonly messages: DiskSpecMessage[] = [];

  constructor(readonly disk: DeviceDisk) {}

  // xlu__disk_err
  error(near: string | null, message: string): void {
    this.messages.push({ message, near, spec: this.spec });
    this.err = true;
  }

  /**
   * Runs one string's tokens through the scanner actions, in order. Returns early where flex's
   * action returns (the scan of this string ends).
   */
  scan(spec: string, tokens: readonly DiskToken[]): void {
    this.spec = spec;
    for (const tok of tokens) {
      if (!this.action(spec, tok)) return;
    }
  }

  /** One flex action. False means the action returned from yylex (stop scanning). */
  private action(spec: string, tok: DiskToken): boolean {
    const text = tok.text;
    switch (tok.type) {
      case 'kv':
        this.keyValue(text);
        return true;
      case 'unknown':
        this.error(text, 'unknown parameter');
        return true;
      case 'flag':
        this.flag(strip(text, ','));
        return true;
      case 'prefix':
        this.deprecatedPrefix(text.slice(0, -1));
        return true;
      case 'badprefix':
        this.error(text, 'unknown deprecated disk prefix');
        return false;
      case 'positional':
        return this.positional(strip(text, ','));
      case 'bad':
        return this.badSyntax(spec, tok);
      default:
        throw new InternalError(`disk scanner: unexpected token type ${tok.type}`);
    }
  }

  private keyValue(text: string): void {
    const eq = text.indexOf('=');
    const key = text.slice(0, eq);
    if (key === 'devtype') {
      // devtype=cdrom / devtype=disk only as the whole token; else the error quotes it unstripped.
      const v = strip(text, ',').slice(eq + 1);
      if (v === 'cdrom') this.disk.is_cdrom = 1;
      else if (v === 'disk') this.disk.is_cdrom = 0;
      else this.error(text, 'unknown value for type');
      return;
    }
    const value = strip(text, ',').slice(eq + 1);
    switch (key) {
      case 'format': return this.setFormat(value);
      case 'access': return this.setAccess(value);
      case 'backend': return this.saveString('backend', 'backend_domname', value);
      case 'backendtype': return this.setBackendType(value);
      case 'specification': return this.setSpecification(value);
      case 'vdev': return this.saveString('vdev', 'vdev', value);
      case 'script': return this.saveString('script', 'script', value);
      case 'colo-host': return this.saveString('colo-host', 'colo_host', value);
      case 'colo-port': return this.setColoPort(value);
      case 'colo-export': return this.saveString('colo-export', 'colo_export', value);
      case 'active-disk': return this.saveString('active-disk', 'active_disk', value);
      case 'hidden-disk': return this.saveString('hidden-disk', 'hidden_disk', value);
      case 'target': return this.saveString('target', 'pdev_path', value);
      default:
        throw new InternalError(`disk scanner: unexpected key ${key}`);
    }
  }

  private flag(name: string): void {
    const d = this.disk;
    if (name === 'cdrom') d.is_cdrom = 1;
    else if (name === 'direct-io-safe') d.direct_io_safe = true;
    else if (name === 'discard') d.discard_enable = true;
    else if (name === 'no-discard') d.discard_enable = false;
    else if (name === 'colo') d.colo_enable = true;
    else if (name === 'no-colo') d.colo_enable = false;
  }

  private deprecatedPrefix(name: string): void {
    this.hadDeprPrefix = true;
    if (name === 'raw' || name === 'qcow' || name === 'qcow2' || name === 'vhd') {
      this.setFormat(name);
    } else if (name === 'iscsi' || name === 'nbd' || name === 'enbd' || name === 'drbd') {
      // savestring's error quotes the new value, so a clash says near `block-<name>'.
      this.saveString('script', 'script', `block-${name}`);
    }
  }

  private positional(text: string): boolean {
    const d = this.disk;
    if (this.err) {
      // earlier errors may just lead to later ones: libxlu stays quiet
    } else if (d.pdev_path === null) {
      this.saveString('target', 'pdev_path', text);
    } else if (!this.hadDeprPrefix && d.format === 'unknown') {
      // the xend empty-cdrom form `,hdc:cdrom,r`: with an empty target the slot takes a vdev
      if (d.pdev_path === '' && this.vdevAndDevtype(text)) d.format = 'empty';
      else this.setFormat(text);
    } else if (d.vdev === null) {
      if (!this.vdevAndDevtype(text)) this.saveString('vdev', 'vdev', text);
    } else if (!this.accessSet) {
      this.accessSet = true;
      this.setAccess(text);
    } else {
      this.error(text, 'too many positional parameters');
      return false;
    }
    return true;
  }

  private badSyntax(spec: string, tok: DiskToken): boolean {
    if (tok.text.length === 1) {
      const next = tok.offset + 1;
      // In flex's error state the end of input simply ends the scan, with nothing printed...
      if (next >= spec.length) return false;
      // ...and a newline matches no rule of that state at all: flex's fatal "jammed".
      throw new DiskScannerFatal('flex scanner jammed');
    }
    this.error(tok.text, 'bad disk syntax');
    return false;
  }

  // vdev_and_devtype: `<vdev>:<devtype>` split at the last colon. True if it was that form.
  private vdevAndDevtype(text: string): boolean {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return false;
    this.saveString('vdev', 'vdev', text.slice(0, colon));
    const devtype = text.slice(colon + 1);
    if (devtype === 'cdrom') this.disk.is_cdrom = 1;
    else if (devtype === 'disk') this.disk.is_cdrom = 0;
    else this.error(devtype, 'unknown deprecated type');
    return true;
  }

  // savestring: a non-empty value may not be replaced; an empty one silently may.
  private saveString(label: string, field: StringField, value: string): void {
    const current = this.disk[field];
    if (current !== null && current !== '') {
      this.error(value, `${label} respecified`);
      return;
    }
    this.disk[field] = value;
  }

  // setaccess: no respecification check, the last one wins.
  private setAccess(value: string): void {
    if (value === 'r' || value === 'ro') this.disk.readwrite = 0;
    else if (value === 'rw' || value === 'w' || value === '') this.disk.readwrite = 1;
    else this.error(value, 'unknown value for access');
  }

  // setformat
  private setFormat(value: string): void {
    const format = FORMAT_NAMES.get(value);
    if (format === undefined) this.error(value, 'unknown value for format');
    else this.disk.format = this.dset('format', this.disk.format, format, value);
  }

  // setbackendtype (the DSET label is the struct member: "backend respecified")
  private setBackendType(value: string): void {
    const backend = BACKEND_NAMES.get(value);
    if (backend === undefined) this.error(value, 'unknown value for backendtype');
    else this.disk.backend = this.dset('backend', this.disk.backend, backend, value);
  }

  // setspecification
  private setSpecification(value: string): void {
    const spec = SPECIFICATION_NAMES.get(value);
    if (spec === undefined) this.error(value, 'unknown value for specification');
    else this.disk.specification = this.dset('specification', this.disk.specification, spec, value);
  }

  // DSET: an enum may be set again only to the same value.
  private dset<T extends string>(member: string, current: T, wanted: T, value: string): T {
    if (current !== 'unknown' && current !== wanted) {
      this.error(value, `${member} respecified`);
      return current;
    }
    return wanted;
  }

  // setcoloport: C atoi, and 0 is refused.
  private setColoPort(value: string): void {
    const port = atoi(value);
    if (port !== 0) this.disk.colo_port = port;
    else this.error(value, 'unknown value for colo_port');
  }
}

/** The char * members (enums are strings here too, so test the other way round). */
type StringField = {
  [K in keyof DeviceDisk]: string | null extends DeviceDisk[K] ? K : never;
}[keyof DeviceDisk];

const FORMAT_NAMES = new Map<string, DiskFormat>([
  ['', 'raw'], ['raw', 'raw'], ['qcow', 'qcow'], ['qcow2', 'qcow2'],
  ['vhd', 'vhd'], ['empty', 'empty'], ['qed', 'qed'],
]);

const BACKEND_NAMES = new Map<string, DiskBackend>([
  ['phy', 'phy'], ['tap', 'tap'], ['qdisk', 'qdisk'], ['standalone', 'standalone'],
]);

const SPECIFICATION_NAMES = new Map<string, DiskSpecification>([
  ['xen', 'xen'], ['virtio', 'virtio'],
]);

/** flex's STRIP(delim): one trailing delimiter off. */
function strip(text: string, delim: string): string {
  return text.endsWith(delim) ? text.slice(0, -1) : text;
}
