/**
 * libxl's messages (LOG/LOGD in libxl_internal.h) over the injected {@link Logger}: each call is
 * one line to the caller's logger with the libxl function in `where` and the domain in `domid`,
 * nothing kept. {@link formatLibxlLogLine} gives the text xl prints for it on stderr.
 * @module
 */
import { levelEnabled, loggerFrom, scopedLogger, type LogFields, type Logger, type LogLevel } from '../util/log.js';
import { LibxlError } from './errors.js';

/** What a libxl port logs through (the ctx's `log`). */
export interface LibxlLog {
  /** One message of libxl's: `where` is `file.c:function`, `domid` the domain it is about. */
  log(level: LogLevel, where: string, message: string, domid?: number): void;
  /** Logs at error level and returns the error to throw, so a port reads `throw log.fail(...)`. */
  fail(rc: number, where: string, message: string, domid?: number): LibxlError;
}

/** A LibxlLog writing to `logger` (scoped `libxl`); silent without one. */
export function libxlLog(logger?: Logger): LibxlLog {
  const out = scopedLogger(logger, 'libxl');
  const log = (level: LogLevel, where: string, message: string, domid?: number): void =>
    out[level](message, domid === undefined ? { where } : { where, domid });
  return {
    log,
    fail(rc, where, message, domid) {
      log('error', where, message, domid);
      return new LibxlError(rc, message);
    },
  };
}

// xentoollog's level names (xtl_level_to_string) for the four the Logger has
const LEVEL_WORDS: Record<LogLevel, string> = { debug: 'debug', info: 'info', warn: 'warning', error: 'error' };

/**
 * The line xl prints for one libxl message: `libxl: <level>: <where>: [Domain <d>:]<message>`
 * and a newline (libxl's C line number is left out).
 */
export function formatLibxlLogLine(level: LogLevel, message: string, fields: LogFields): string {
  const where = typeof fields.where === 'string' ? fields.where : 'libxl';
  const domain = typeof fields.domid === 'number' ? `Domain ${fields.domid}:` : '';
  return `libxl: ${LEVEL_WORDS[level]}: ${where}: ${domain}${message}\n`;
}

/** A Logger that writes xl's libxl lines at `minimum` and above to `write` (stderr, for the CLI). */
export function libxlLineLogger(write: (line: string) => void, minimum: LogLevel = 'warn'): Logger {
  return loggerFrom((level, message, fields) => {
    if (levelEnabled(level, minimum)) write(formatLibxlLogLine(level, message, fields));
  });
}
