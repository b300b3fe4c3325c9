/**
 * The QMP error hierarchy, shaped after qemu's python/qemu/qmp/error.py: every failure of the
 * client is a QMPError, and the ones that concern a command carry what was sent and received so a
 * caller can log the exact exchange.
 */
import type { QmpMessage } from './message.js';

export class QMPError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The socket could not be reached, or the session could not be established on it. */
export class ConnectError extends QMPError {}

/** An operation was asked for in a run-state that does not allow it (e.g. execute while IDLE). */
export class StateError extends QMPError {
  constructor(
    message: string,
    readonly state: string,
  ) {
    super(message);
  }
}

/** The server broke the protocol: the session cannot be trusted any longer. */
export class ProtocolError extends QMPError {
  constructor(
    message: string,
    readonly received?: unknown,
  ) {
    super(message);
  }
}

export class GreetingError extends ProtocolError {}
export class NegotiationError extends ProtocolError {}

/** A reply that is not JSON, not an object, or not shaped like a QMP message. */
export class BadReplyError extends ProtocolError {
  constructor(
    message: string,
    received: unknown,
    readonly sent?: QmpMessage,
  ) {
    super(message, received);
  }
}

/** The server answered a command with {"error": …}. */
export class ExecuteError extends QMPError {
  readonly errorClass: string;
  readonly desc: string;
  constructor(
    readonly sent: QmpMessage,
    readonly received: QmpMessage,
  ) {
    const err = (received.error ?? {}) as { class?: string; desc?: string };
    const cmd = typeof sent.execute === 'string' ? sent.execute : String(sent['exec-oob']);
    super(`${cmd}: ${err.class ?? 'GenericError'}: ${err.desc ?? '(no description)'}`);
    this.errorClass = err.class ?? 'GenericError';
    this.desc = err.desc ?? '';
  }
}

/** The connection went away while a command was waiting for its reply. */
export class ExecInterruptedError extends QMPError {
  constructor(
    message: string,
    readonly sent?: QmpMessage,
    cause?: Error,
  ) {
    super(message, cause ? { cause } : undefined);
  }
}

/** No reply (or no event) within the time asked for. The session itself stays usable. */
export class TimeoutError extends QMPError {
  constructor(
    message: string,
    readonly sent?: QmpMessage,
  ) {
    super(message);
  }
}

/** The QEMU on the other end lacks commands or arguments a feature needs; raised up front. */
export class CapabilityError extends QMPError {
  constructor(
    readonly feature: string,
    readonly missing: string[],
  ) {
    super(
      `this QEMU cannot do ${feature}: missing ${missing.join(', ')} ` +
        `(a QEMU built with CONFIG_REPLICATION and COLO support is needed, e.g. Debian's qemu-system-x86 >= 7.2)`,
    );
  }
}
