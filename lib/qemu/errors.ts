/**
 * What can go wrong running QEMU and its tools, as ColoXlErrors with stable codes: a QEMU that
 * exited while starting (QEMU_EXITED, with its own output, which says why), a qemu-img that failed
 * (QEMU_IMG_FAILED), no free loopback port (QEMU_NO_FREE_PORT).
 * @module
 */
import { ColoXlError } from '../errors.js';

export class QemuError extends ColoXlError {}

/** A QEMU ended before its QMP session was up; `output` is what it printed (its reason). */
export class QemuExitedError extends QemuError {
  constructor(
    readonly qemu: string,
    readonly exitCode: number | null | undefined,
    readonly output: string,
    options?: ErrorOptions & { atStartUp?: boolean },
  ) {
    super('QEMU_EXITED', `${qemu}: qemu exited (${exitCode})${options?.atStartUp ? ' at start-up' : ''}: ${output}`, options);
  }
}

/** qemu-img returned non-zero; `output` is its stderr and stdout. */
export class QemuImgError extends QemuError {
  constructor(
    readonly args: readonly string[],
    readonly status: number | null,
    readonly output: string,
  ) {
    super('QEMU_IMG_FAILED', `qemu-img ${args.join(' ')} failed (${status}): ${output}`);
  }
}

/** Not one TCP port on 127.0.0.1 could be bound. */
export class QemuNoFreePortError extends QemuError {
  constructor() {
    super('QEMU_NO_FREE_PORT', 'no free TCP port on 127.0.0.1');
  }
}
