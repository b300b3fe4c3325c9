/** Failures of a COLO step, each naming the step and the side it ran on. */
import { QMPError } from '../qmp/errors.js';

export type ColoSide = 'primary' | 'secondary';

export class ColoError extends QMPError {
  constructor(
    readonly side: ColoSide,
    readonly step: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`COLO ${side}: ${step}: ${message}`, options);
  }
}

/** query-xen-replication-status said {"error": true}: libxl ignores it, we do not. */
export class ReplicationStatusError extends ColoError {
  constructor(
    side: ColoSide,
    readonly desc: string,
  ) {
    super(side, 'query-xen-replication-status', `replication error: ${desc}`);
  }
}
