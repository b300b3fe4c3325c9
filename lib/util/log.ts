/**
 * The one logging seam of the library. A management stack passes its own {@link Logger} (pino,
 * winston and console all fit the four-method shape) in each component's options; nothing in
 * colo-xl writes to the console or buffers log lines on its own. Components name their scope
 * through {@link scopedLogger} — `qmp 127.0.0.1:4444`, `libxl`, `ha` — so one sink can tell
 * connections apart, as qemu's QMP library keeps a logger per connection.
 * @module
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Structured fields of a log line (what was sent, received, which device...). */
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** Discards everything: the default when no logger is given. */
export const silentLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
});

/** `logger` with `scope` added to every line's fields (an existing scope is extended). */
export function scopedLogger(logger: Logger | undefined, scope: string): Logger {
  if (!logger || logger === silentLogger) return silentLogger;
  const out = {} as Logger;
  for (const level of LEVELS) {
    out[level] = (message, fields) => {
      const outer = typeof fields?.scope === 'string' ? `${scope} ${fields.scope}` : scope;
      logger[level](message, { ...fields, scope: outer });
    };
  }
  return out;
}

/** A Logger from one function of (level, message, fields): the shortest way to adapt a sink. */
export function loggerFrom(sink: (level: LogLevel, message: string, fields: LogFields) => void): Logger {
  const out = {} as Logger;
  for (const level of LEVELS) out[level] = (message, fields) => sink(level, message, fields ?? {});
  return out;
}

/** Whether `level` is at or above `threshold` (for sinks that filter). */
export function levelEnabled(level: LogLevel, threshold: LogLevel): boolean {
  return LEVELS.indexOf(level) >= LEVELS.indexOf(threshold);
}
