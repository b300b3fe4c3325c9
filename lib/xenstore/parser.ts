import { ColoXlError } from '../errors.js';
import { HEADER_SIZE, PAYLOAD_MAX, type Packet } from './messages.js';

/** A header announced more than XENSTORE_PAYLOAD_MAX bytes: the stream cannot be trusted (XS_FRAMING). */
export class XsFramingError extends ColoXlError {
  constructor(readonly announced: number) {
    super('XS_FRAMING', `xenstore packet announces ${announced} payload bytes (limit ${PAYLOAD_MAX})`);
  }
}

/**
 * Incremental framer: feed it bytes as they arrive (in any chunking), get whole packets out.
 * Keeps at most one partial packet; an oversized length poisons the stream (XsFramingError),
 * because nothing after it can be re-synchronised.
 */
export class PacketParser {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private failed: XsFramingError | undefined;

  constructor(private readonly maxPayload = PAYLOAD_MAX) {}

  /** Bytes held that do not yet form a whole packet. */
  get pending(): number {
    return this.buffered;
  }

  push(data: Buffer): Packet[] {
    if (this.failed) throw this.failed;
    if (data.length === 0) return [];
    this.chunks.push(data);
    this.buffered += data.length;
    if (this.buffered < HEADER_SIZE) return [];
    let buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    const out: Packet[] = [];
    let off = 0;
    while (buf.length - off >= HEADER_SIZE) {
      const len = buf.readUInt32LE(off + 12);
      if (len > this.maxPayload) {
        this.failed = new XsFramingError(len);
        this.chunks = [];
        this.buffered = 0;
        throw this.failed;
      }
      if (buf.length - off < HEADER_SIZE + len) break;
      out.push({
        type: buf.readUInt32LE(off),
        reqId: buf.readUInt32LE(off + 4),
        txId: buf.readUInt32LE(off + 8),
        // A copy, so a packet never pins (or aliases) the socket's larger read buffer.
        payload: Buffer.from(buf.subarray(off + HEADER_SIZE, off + HEADER_SIZE + len)),
      });
      off += HEADER_SIZE + len;
    }
    buf = buf.subarray(off);
    this.chunks = buf.length ? [buf] : [];
    this.buffered = buf.length;
    return out;
  }
}
