/**
 * The QMP error hierarchy, shaped after qemu's python/qemu/qmp/error.py: every failure of the
 * client is a QMPError (a ColoXlError), each class has its own stable `code` (the class's static
 * `code`, e.g. `QMPTimeoutError.code === 'QMP_TIMEOUT'`), and the ones that concern a command
 * carry what was sent and received so a caller can log the exact exchange. Aborts by a caller's
 * AbortSignal are not QMP failures: they are the shared AbortedError.
 * @module
 */
import { ColoXlError } from '../errors.js';
import type { QmpMessage } from './types.js';

export class QMPError extends ColoXlError {
  /** The `code` of this class's errors; every subclass names its own. */
  static readonly code: string = 'QMP_ERROR';

  constructor(message: string, options?: ErrorOptions) {
    // the code comes from the class actually built, so a subclass needs no constructor for it
    super((new.target as { code?: string }).code ?? QMPError.code, message, options);
  }
}

/** The socket could not be reached, or the session could not be established on it. */
export class QMPConnectError extends QMPError {
  static readonly code = 'QMP_CONNECT';
}

/** An operation was asked for in a run-state that does not allow it (e.g. execute while IDLE). */
export class QMPStateError extends QMPError {
  static readonly code = 'QMP_STATE';
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
export class QMPProtocolError extends QMPError {
  static readonly code: string = 'QMP_PROTOCOL';
  readonly received: string;
  readonly receivedBytes: number;
  constructor(message: string, received = '', options?: { cause?: unknown; receivedBytes?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.received = excerpt(received);
    this.receivedBytes = options?.receivedBytes ?? Buffer.byteLength(received);
  }
}

/** The peer closed the connection (between messages); see QMPTruncatedMessageError for mid-message. */
export class QMPConnectionClosedError extends QMPProtocolError {
  static readonly code = 'QMP_CONNECTION_CLOSED';
}

/** The first message was no QMP greeting. */
export class QMPGreetingError extends QMPProtocolError {
  static readonly code = 'QMP_GREETING';
}

/** qmp_capabilities was refused or answered with something else. */
export class QMPNegotiationError extends QMPProtocolError {
  static readonly code = 'QMP_NEGOTIATION';
}

/** A message that is not JSON, not an object, or not shaped like a QMP message. */
export class QMPBadReplyError extends QMPProtocolError {
  static readonly code: string = 'QMP_BAD_REPLY';
  constructor(
    message: string,
    received: string,
    readonly sent?: QmpMessage,
  ) {
    super(message, received);
  }
}

/** JSON nested deeper than the limit (QEMU's own parser refuses more than 1024 levels). */
export class QMPNestingTooDeepError extends QMPBadReplyError {
  static readonly code = 'QMP_NESTING_TOO_DEEP';
  constructor(
    received: string,
    readonly limit: number,
  ) {
    super(`QMP: message nested deeper than ${limit} levels: ${excerpt(received, 200)}`, received);
  }
}

/** A line longer than the limit; the reader stopped buffering it at the limit. */
export class QMPMessageTooLongError extends QMPProtocolError {
  static readonly code = 'QMP_MESSAGE_TOO_LONG';
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
export class QMPTruncatedMessageError extends QMPProtocolError {
  static readonly code = 'QMP_TRUNCATED_MESSAGE';
  constructor(head: string, receivedBytes?: number) {
    super(`QMP: connection closed in the middle of a message: ${excerpt(head, 200)}`, head, { receivedBytes });
  }
}

/**
 * A reply whose id matches no waiting command (typically one that arrived after its command timed
 * out). The QMP spec tells clients to drop these, so it is recorded (QMPClient.droppedReplies), not
 * thrown.
 */
export class QMPUnexpectedReplyError extends QMPProtocolError {
  static readonly code = 'QMP_UNEXPECTED_REPLY';
  constructor(
    received: string,
    readonly id: unknown,
  ) {
    super(`QMP: reply for no waiting command (id ${excerpt(String(JSON.stringify(id)), 80)}): ${excerpt(received, 200)}`, received);
  }
}

/** The server answered a command with {"error": …}. */
export class QMPExecuteError extends QMPError {
  static readonly code = 'QMP_EXECUTE';
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

/**
 * The connection went away (or the listener was closed) while a command waited for its reply or
 * a caller for an event; `sent` is the command, when there was one.
 */
export class QMPExecInterruptedError extends QMPError {
  static readonly code = 'QMP_EXEC_INTERRUPTED';
  constructor(
    message: string,
    readonly sent?: QmpMessage,
    cause?: Error,
  ) {
    super(message, cause ? { cause } : undefined);
  }
}

/**
 * No reply (or no event, or no greeting) within the time asked for; the session itself stays
 * usable. `cause` is the WaitTimeoutError of the wait that ran out.
 */
export class QMPTimeoutError extends QMPError {
  static readonly code = 'QMP_TIMEOUT';
  readonly sent?: QmpMessage;
  readonly timeoutMs?: number;
  constructor(message: string, options?: { sent?: QmpMessage; timeoutMs?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (options?.sent) this.sent = options.sent;
    if (options?.timeoutMs !== undefined) this.timeoutMs = options.timeoutMs;
  }
}

/** The QEMU on the other end lacks commands or arguments a feature needs; raised up front. */
export class QMPCapabilityError extends QMPError {
  static readonly code = 'QMP_CAPABILITY';
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
