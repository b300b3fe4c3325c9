/**
 * Putting values into QEMU's comma-separated option strings safely. libxl pastes paths and COLO
 * names in as they are, so a path like `/img,file.driver=nbd` adds options to a `-drive`. QEMU's
 * own escape is a doubled comma; ids cannot contain one at all, so those are refused instead.
 * Values without commas come out unchanged, keeping libxl's exact strings.
 */
import { ColoXlError } from '../../errors.js';

/** A value QEMU could not take as the one path or id it is meant to be. */
export class QemuOptionError extends ColoXlError {
  constructor(message: string) {
    super('LIBXL_QEMU_OPTION', message);
  }
}

/** A value for `key=value` inside an option string: `,` becomes `,,`. */
export function qemuOptValue(value: string): string {
  return value.replaceAll(',', ',,');
}

/**
 * A value used as a path in `file=`/`filename=`: escaped, and refused when QEMU would read it as
 * a block-driver description rather than a file name (`json:` pseudo-protocol).
 */
export function qemuPath(path: string, what: string): string {
  if (path.startsWith('json:')) throw new QemuOptionError(`${what} "${path}" would be read by QEMU as a json: block description`);
  return qemuOptValue(path);
}

// QEMU's id_wellformed: a letter, then letters, digits, '-', '.', '_'.
const QEMU_ID = /^[A-Za-z][A-Za-z0-9._-]*$/;

/** A QEMU id (drive id, node name): refused unless QEMU would accept it as one id. */
export function qemuId(id: string, what: string): string {
  if (!QEMU_ID.test(id)) {
    throw new QemuOptionError(`${what} "${id}" is not a valid QEMU id (a letter, then letters, digits, '-', '.' or '_')`);
  }
  return id;
}
