/** A Logger for tests that keeps what libxl would have printed, as xl's stderr lines. */
import { libxlLineLogger } from '../../lib/libxl/log.js';
import type { Logger, LogLevel } from '../../lib/util/log.js';

export interface CapturedLines {
  logger: Logger;
  /** Every line at or above the threshold, `libxl: error: ...\n` as xl prints them. */
  lines: string[];
}

export function captureLibxlLines(minimum: LogLevel = 'debug'): CapturedLines {
  const lines: string[] = [];
  return { logger: libxlLineLogger((l) => lines.push(l), minimum), lines };
}
