/**
 * xl calling exit(status) after printing its message, as an error: `report` is everything xl had
 * printed to stderr by then (the message that made it exit last), so a program need not capture
 * stderr to say why a config was refused.
 */
import { ColoXlError } from '../errors.js';

export class XlExit extends ColoXlError {
  constructor(
    readonly status: number,
    readonly report = '',
    options?: ErrorOptions,
  ) {
    const last = report.trimEnd().split('\n').at(-1);
    super('XL_EXIT', `xl exits with status ${status}${last ? `: ${last}` : ''}`, options);
  }
}
