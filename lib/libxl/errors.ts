/**
 * libxl's error codes (libxl_error in libxl_types.idl), so colo-xl fails with the same numbers
 * as libxl, and the one error class a libxl port throws.
 */
import { ColoXlError } from '../errors.js';

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

// libxl_error's names, indexed by -rc (the IDL's enum order)
const ERROR_NAMES = [
  undefined, 'NONSPECIFIC', 'VERSION', 'FAIL', 'NI', 'NOMEM', 'INVAL', 'BADFAIL', 'GUEST_TIMEDOUT', 'TIMEDOUT',
  'NOPARAVIRT', 'NOT_READY', 'OSEVENT_REG_FAIL', 'BUFFERFULL', 'UNKNOWN_CHILD', 'LOCK_FAIL', 'JSON_CONFIG_EMPTY',
  'DEVICE_EXISTS',
] as const;

/** The stable code of a libxl error number: `LIBXL_ERROR_FAIL` for ERROR_FAIL (-3), and so on. */
export function libxlErrorCode(rc: number): string {
  const name = ERROR_NAMES[-rc];
  return name === undefined ? 'LIBXL_ERROR_UNKNOWN' : `LIBXL_ERROR_${name}`;
}

/** A libxl call that failed: `rc` is the libxl error number it returns, `code` its name. */
export class LibxlError extends ColoXlError {
  constructor(
    readonly rc: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(libxlErrorCode(rc), message, options);
  }
}
