/**
 * QMP framing: one JSON message per line. The reader's limits live here, because a peer decides
 * how much it sends and the client must not: a line may be at most `maxLineBytes` long, and a
 * message nested at most `maxDepth` levels deep.
 */
import { QMPMessageTooLongError } from './errors.js';

export interface QmpLimits {
  /** The longest line (one message, its newline not counted) the reader accepts. Default 16 MiB. */
  maxLineBytes?: number;
  /** The deepest nesting of arrays and objects in a message. Default 1024, as QEMU's own parser. */
  maxDepth?: number;
}

/** QEMU 7.2's largest reply (query-qmp-schema) is a few hundred KiB: 16 MiB leaves ample room. */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;
/** json-streamer.c:json_message_process_token refuses input nested more than 1024 levels. */
export const DEFAULT_MAX_DEPTH = 1024;

const NEWLINE = 0x0a;
/** How much of an over-long line an error keeps (the error cuts it further, to characters). */
const HEAD_BYTES = 4096;

/**
 * Turns a byte stream into lines whatever the chunking: a message may be split over many reads,
 * and many messages may arrive in one read. Each byte is looked at once (the unfinished line is
 * kept as a list of chunks, joined when its newline arrives), so a long reply costs linear time;
 * and a line that grows past the limit is dropped at once, so memory stays bounded whatever the
 * peer sends.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private failure: QMPMessageTooLongError | null = null;
  private readonly decoder = new TextDecoder('utf-8');

  constructor(readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES) {}

  /**
   * Feeds a chunk and returns the complete, non-blank lines it finished. A line over the limit
   * ends the stream: the lines before it are returned, `error` is set, and later input is ignored.
   */
  push(chunk: Uint8Array | string): string[] {
    if (this.failure) return [];
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const lines: string[] = [];
    let start = 0;
    for (let nl = buf.indexOf(NEWLINE); nl !== -1; nl = buf.indexOf(NEWLINE, start)) {
      const piece = buf.subarray(start, nl);
      start = nl + 1;
      if (this.overflows(piece)) return lines;
      const bytes = this.parts.length === 0 ? piece : Buffer.concat([...this.parts, piece], this.size + piece.length);
      this.parts = [];
      this.size = 0;
      const line = this.decoder.decode(bytes);
      const text = line.endsWith('\r') ? line.slice(0, -1) : line;
      if (text.trim() !== '') lines.push(text);
    }
    const tail = buf.subarray(start);
    if (tail.length > 0 && !this.overflows(tail)) {
      this.parts.push(tail);
      this.size += tail.length;
    }
    return lines;
  }

  /** Set once a line went over the limit. */
  get error(): QMPMessageTooLongError | null {
    return this.failure;
  }

  /** Bytes received after the last newline (a message cut off, if the stream ends now). */
  get pendingBytes(): number {
    return this.size;
  }

  /** The start of whatever was received after the last newline, decoded. */
  head(maxBytes = HEAD_BYTES): string {
    return this.headOf(this.parts, maxBytes);
  }

  /** Whatever was received after the last newline (for tests; may be up to the limit long). */
  get rest(): string {
    return this.decoder.decode(Buffer.concat(this.parts));
  }

  private overflows(more: Buffer): boolean {
    if (this.size + more.length <= this.maxLineBytes) return false;
    const head = this.headOf([...this.parts, more], HEAD_BYTES);
    this.failure = new QMPMessageTooLongError(head, this.maxLineBytes, this.size + more.length);
    this.parts = [];
    this.size = 0;
    return true;
  }

  private headOf(bufs: Buffer[], maxBytes: number): string {
    const out: Buffer[] = [];
    let n = 0;
    for (const b of bufs) {
      if (n >= maxBytes) break;
      const take = b.subarray(0, maxBytes - n);
      out.push(take);
      n += take.length;
    }
    return this.decoder.decode(Buffer.concat(out));
  }
}
