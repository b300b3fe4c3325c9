/**
 * libxl's error codes (libxl_error in libxl_types.idl) and its log line, so colo-xl fails with
 * the same codes and words as libxl.
 */

export const ERROR_NONSPECIFIC = -1;
export const ERROR_VERSION = -2;
export const ERROR_FAIL = -3;
export const ERROR_NI = -4;
export const ERROR_NOMEM = -5;
export const ERROR_INVAL = -6;
export const ERROR_BADFAIL = -7;
export const ERROR_GUEST_TIMEDOUT = -8;
export const ERROR_TIMEDOUT = -9;
export const ERROR_NOPARAVIRT = -10;
export const ERROR_NOT_READY = -11;
export const ERROR_OSEVENT_REG_FAIL = -12;
export const ERROR_BUFFERFULL = -13;
export const ERROR_UNKNOWN_CHILD = -14;
export const ERROR_LOCK_FAIL = -15;
export const ERROR_JSON_CONFIG_EMPTY = -16;
export const ERROR_DEVICE_EXISTS = -17;

/** A libxl call that failed: `rc` is the libxl error code it returns. */
export class LibxlError extends Error {
  constructor(
    readonly rc: number,
    message: string,
  ) {
    super(message);
    this.name = 'LibxlError';
  }
}

export type LogLevel = 'debug' | 'verbose' | 'detail' | 'progress' | 'info' | 'notice' | 'warn' | 'error' | 'critical';

const LEVELS: LogLevel[] = ['debug', 'verbose', 'detail', 'progress', 'info', 'notice', 'warn', 'error', 'critical'];

/**
 * Where libxl's messages go. xl prints warnings and errors (more with -v), each as
 * `libxl: <level>: <file>:<function>: [Domain <d>:]<message>`; the C line number is left out.
 */
export class LibxlLogger {
  readonly lines: string[] = [];
  constructor(
    private readonly write: (line: string) => void = () => {},
    private readonly minimum: LogLevel = 'warn',
  ) {}

  log(level: LogLevel, where: string, message: string, domid?: number): void {
    const line = `libxl: ${level}: ${where}: ${domid === undefined ? '' : `Domain ${domid}:`}${message}\n`;
    this.lines.push(line);
    if (LEVELS.indexOf(level) >= LEVELS.indexOf(this.minimum)) this.write(line);
  }

  /** Logs at error level and returns the error to throw, so a port reads `throw log.fail(...)`. */
  fail(rc: number, where: string, message: string, domid?: number): LibxlError {
    this.log('error', where, message, domid);
    return new LibxlError(rc, message);
  }
}
