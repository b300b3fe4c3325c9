/**
 * QMP wire messages: one JSON object per line (QEMU ends them with "\r\n"). A message is a plain
 * JSON object; the helpers here tell greetings, replies and events apart and check their shape,
 * as qemu's python/qemu/qmp/message.py and the reader of qmp_client.py do. Every check throws a
 * QMPProtocolError subclass that carries the start of the line received, never a bare TypeError or
 * RangeError, whatever the peer sent.
 */
import { excerpt, QMPBadReplyError, QMPGreetingError, QMPNestingTooDeepError } from './errors.js';
import { DEFAULT_MAX_DEPTH } from './framing.js';
import type { QmpEvent, QmpGreeting, QmpMessage } from './types.js';

export type { QmpEvent, QmpGreeting, QmpMessage } from './types.js';

export function isEvent(msg: QmpMessage): msg is QmpMessage & QmpEvent {
  return typeof msg.event === 'string';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What is wrong with a greeting (qmp-spec "Server Greeting"), or null if nothing is. */
function greetingFault(msg: QmpMessage): string | null {
  const qmp = msg.QMP;
  if (!isObject(qmp)) return 'no "QMP" object';
  if (!isObject(qmp.version)) return '"QMP.version" is not an object';
  const { qemu, package: pkg } = qmp.version;
  if (!isObject(qemu)) return '"QMP.version.qemu" is not an object';
  for (const k of ['major', 'minor', 'micro']) {
    if (!Number.isInteger(qemu[k])) return `"QMP.version.qemu.${k}" is not an integer`;
  }
  if (typeof pkg !== 'string') return '"QMP.version.package" is not a string';
  if (!Array.isArray(qmp.capabilities) || !qmp.capabilities.every((c) => typeof c === 'string')) {
    return '"QMP.capabilities" is not an array of strings';
  }
  return null;
}

/** Checks the first message of a session; `raw` is its line, for the error. */
export function checkGreeting(msg: QmpMessage, raw: string): QmpGreeting {
  const fault = greetingFault(msg);
  if (fault !== null) throw new QMPGreetingError(`expected a QMP greeting (${fault}), got ${excerpt(raw, 200)}`, raw);
  return msg as unknown as QmpGreeting;
}

/** A reply to a command: exactly one of "return" / "error", plus the id we sent, if any. */
export function isReply(msg: QmpMessage): boolean {
  return ('return' in msg) !== ('error' in msg);
}

/**
 * Whether `text` nests arrays and objects deeper than `max`, counted outside strings as QEMU's
 * json-streamer.c does. Checked before JSON.parse so a hostile line is refused before it is built
 * (V8 parses any depth, but JSON.stringify and every recursive walk of the value then overflow the
 * stack). Skips each string with indexOf, so a long string value costs little.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i = closingQuote(text, i);
      if (i < 0) return false; // unterminated: JSON.parse reports it
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return false;
}

/** Index of the quote that ends the string opened at `open`, or -1. */
function closingQuote(text: string, open: number): number {
  for (let j = text.indexOf('"', open + 1); j !== -1; j = text.indexOf('"', j + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(j - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return j;
  }
  return -1;
}

/** Parses one line; anything that is not a JSON object of a sane shape is a protocol violation. */
export function parseMessage(line: string, maxDepth = DEFAULT_MAX_DEPTH): QmpMessage {
  if (nestsDeeperThan(line, maxDepth)) throw new QMPNestingTooDeepError(line, maxDepth);
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    throw new QMPBadReplyError(`QMP: not JSON: ${excerpt(line, 200)} (${(e as Error).message})`, line);
  }
  if (!isObject(value)) {
    throw new QMPBadReplyError(`QMP: not a JSON object: ${excerpt(line, 200)}`, line);
  }
  if ('error' in value) {
    const err = value.error;
    if (!isObject(err) || typeof err.class !== 'string' || typeof err.desc !== 'string') {
      throw new QMPBadReplyError(`QMP: malformed error object: ${excerpt(line, 200)}`, line);
    }
  }
  if ('event' in value && (typeof value.event !== 'string' || ('data' in value && !isObject(value.data)))) {
    throw new QMPBadReplyError(`QMP: malformed event: ${excerpt(line, 200)}`, line);
  }
  return value;
}

/** Serialises a message as one line; JSON.stringify never emits a raw newline. */
export function encodeMessage(msg: QmpMessage): string {
  return JSON.stringify(msg) + '\n';
}
