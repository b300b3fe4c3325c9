/**
 * Reading the save stream: exact byte counts from a Readable however its chunks are cut
 * (libxl_read_exactly), then xl's header (create_domain's read of save_file_header) and libxl's
 * records (libxl__stream_read's record header and padded body).
 * @module
 */
import type { Readable } from 'node:stream';
import {
  recordPadding,
  REC_HEADER_LEN,
  SAVEFILE_BYTEORDER,
  SAVEFILE_HEADER_LEN,
  SAVEFILE_MAGIC,
  StreamEnd,
  type SaveHeader,
  type StreamRecord,
} from './messages.js';

/** Reads exact byte counts from a stream, however its chunks are cut; an end before them is StreamEnd. */
export class ExactReader {
  private chunks: Buffer[] = [];
  private have = 0;
  private ended = false;
  private waiters: Array<() => void> = [];
  private readonly endedPromise: Promise<void>;

  constructor(readonly stream: Readable) {
    let endNow = (): void => undefined;
    this.endedPromise = new Promise<void>((r) => (endNow = r));
    stream.on('data', (b: Buffer) => {
      this.chunks.push(b);
      this.have += b.length;
      this.poke();
    });
    const end = (): void => {
      this.ended = true;
      endNow();
      this.poke();
    };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
  }

  private poke(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  /** Resolves once the stream has ended (bytes may still be buffered). */
  whenEnded(): Promise<void> {
    return this.endedPromise;
  }

  /** Exactly `n` bytes; `what` names them in the StreamEnd when the stream ends first. */
  async read(n: number, what: string): Promise<Buffer> {
    while (this.have < n) {
      if (this.ended) throw new StreamEnd(`${what}: the stream ended`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.have -= n;
    return all.subarray(0, n);
  }
}

/** The header as create_domain reads it; a string is xl's complaint, word for word. */
export async function readSaveHeader(r: ExactReader): Promise<SaveHeader | string> {
  const hdr = await r.read(SAVEFILE_HEADER_LEN, 'header');
  if (!hdr.subarray(0, SAVEFILE_MAGIC.length).equals(SAVEFILE_MAGIC)) return 'File has wrong magic number - corrupt or for a different tool?\n';
  if (hdr.readUInt32LE(32) !== SAVEFILE_BYTEORDER) return 'File has wrong byte order\n';
  const optionalDataLen = hdr.readUInt32LE(44);
  const opt = await r.read(optionalDataLen, 'optdata');
  const configLen = opt.length >= 4 ? opt.readUInt32LE(0) : 0;
  if (opt.length > 0 && opt.length < 4 + configLen) return 'Savefile truncated.\n';
  return { mandatoryFlags: hdr.readUInt32LE(36), optionalFlags: hdr.readUInt32LE(40), optionalDataLen, config: opt.subarray(4, 4 + configLen) };
}

/** One record: its header, then its body and padding. */
export async function readRecord(r: ExactReader): Promise<StreamRecord> {
  const h = await r.read(REC_HEADER_LEN, 'record header');
  const type = h.readUInt32LE(0);
  const len = h.readUInt32LE(4);
  const body = await r.read(len + recordPadding(len), 'record body');
  return { type, body: body.subarray(0, len) };
}
