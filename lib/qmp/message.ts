/**
 * QMP wire messages: one JSON object per line (QEMU ends them with "\r\n"). A message is a plain
 * JSON object; the helpers here tell greetings, replies and events apart and check their shape,
 * as qemu's python/qemu/qmp/message.py and the reader of qmp_client.py do.
 */
import { BadReplyError } from './errors.js';

export type QmpMessage = Record<string, unknown>;

export interface QmpGreeting {
  QMP: { version: { qemu: { major: number; minor: number; micro: number }; package: string }; capabilities: string[] };
}

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp: { seconds: number; microseconds: number };
}

export function isEvent(msg: QmpMessage): msg is QmpMessage & QmpEvent {
  return typeof msg.event === 'string';
}

export function isGreeting(msg: QmpMessage): msg is QmpMessage & QmpGreeting {
  const qmp = msg.QMP as { version?: unknown; capabilities?: unknown } | undefined;
  return typeof qmp === 'object' && qmp !== null && typeof qmp.version === 'object' && Array.isArray(qmp.capabilities);
}

/** A reply to a command: exactly one of "return" / "error", plus the id we sent, if any. */
export function isReply(msg: QmpMessage): boolean {
  return ('return' in msg) !== ('error' in msg);
}

/** Parses one line; anything that is not a JSON object is a protocol violation. */
export function parseMessage(line: string): QmpMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    throw new BadReplyError(`QMP: not JSON: ${line.slice(0, 200)} (${(e as Error).message})`, line);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadReplyError(`QMP: not a JSON object: ${line.slice(0, 200)}`, value);
  }
  const msg = value as QmpMessage;
  if ('error' in msg) {
    const err = msg.error as { class?: unknown; desc?: unknown } | null;
    if (typeof err !== 'object' || err === null || typeof err.class !== 'string' || typeof err.desc !== 'string') {
      throw new BadReplyError(`QMP: malformed error object: ${line.slice(0, 200)}`, value);
    }
  }
  return msg;
}

/** Serialises a message as one line; JSON.stringify never emits a raw newline. */
export function encodeMessage(msg: QmpMessage): string {
  return JSON.stringify(msg) + '\n';
}

/**
 * Turns a byte stream into lines whatever the chunking: a message may be split over many reads,
 * and many messages may arrive in one read.
 */
export class LineSplitter {
  private pending = '';
  private readonly decoder = new TextDecoder('utf-8');

  /** Feeds a chunk and returns the complete, non-blank lines it finished. */
  push(chunk: Uint8Array | string): string[] {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    const parts = this.pending.split('\n');
    this.pending = parts.pop() ?? '';
    return parts.map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
  }

  /** Whatever was received after the last newline (a truncated message at EOF). */
  get rest(): string {
    return this.pending;
  }
}
