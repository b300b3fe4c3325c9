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

/** The most of a peer's input an error keeps: enough to log, never the whole 16 MiB. */
export const RECEIVED_EXCERPT_CHARS = 1024;

/** `text` cut to `max` characters, marked when cut; for error messages and `received`. */
export function excerpt(text: string, max = RECEIVED_EXCERPT_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/**
 * The server broke the protocol: the session cannot be trusted any longer. `received` is the start
 * of what it sent (at most RECEIVED_EXCERPT_CHARS characters), `receivedBytes` how long it was.
 */
export class ProtocolError extends QMPError {
  readonly received: string;
  readonly receivedBytes: number;
  constructor(message: string, received = '', options?: { cause?: unknown; receivedBytes?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.received = excerpt(received);
    this.receivedBytes = options?.receivedBytes ?? Buffer.byteLength(received);
  }
}

/** The peer closed the connection (between messages); see TruncatedMessageError for mid-message. */
export class ConnectionClosedError extends ProtocolError {}

export class GreetingError extends ProtocolError {}
export class NegotiationError extends ProtocolError {}

/** A message that is not JSON, not an object, or not shaped like a QMP message. */
export class BadReplyError extends ProtocolError {
  constructor(
    message: string,
    received: string,
    readonly sent?: QmpMessage,
  ) {
    super(message, received);
  }
}

/** JSON nested deeper than the limit (QEMU's own parser refuses more than 1024 levels). */
export class NestingTooDeepError extends BadReplyError {
  constructor(
    received: string,
    readonly limit: number,
  ) {
    super(`QMP: message nested deeper than ${limit} levels: ${excerpt(received, 200)}`, received);
  }
}

/** A line longer than the limit; the reader stopped buffering it at the limit. */
export class MessageTooLongError extends ProtocolError {
  constructor(
    head: string,
    readonly limit: number,
    receivedBytes: number,
  ) {
    super(`QMP: message longer than ${limit} bytes (${receivedBytes} read without a newline): ${excerpt(head, 200)}`, head, {
      receivedBytes,
    });
  }
}

/** The peer closed the connection in the middle of a message. */
export class TruncatedMessageError extends ProtocolError {
  constructor(head: string, receivedBytes?: number) {
    super(`QMP: connection closed in the middle of a message: ${excerpt(head, 200)}`, head, { receivedBytes });
  }
}

/**
 * A reply whose id matches no waiting command (typically one that arrived after its command timed
 * out). The QMP spec tells clients to drop these, so it is recorded (QMPClient.droppedReplies), not
 * thrown.
 */
export class UnexpectedReplyError extends ProtocolError {
  constructor(
    received: string,
    readonly id: unknown,
  ) {
    super(`QMP: reply for no waiting command (id ${excerpt(String(JSON.stringify(id)), 80)}): ${excerpt(received, 200)}`, received);
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
    super(`${cmd}: ${err.class ?? 'GenericError'}: ${excerpt(err.desc ?? '(no description)', 2000)}`);
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
