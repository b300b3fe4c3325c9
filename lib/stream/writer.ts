/**
 * Writing the save stream: xl's header with the domain configuration
 * (save_domain_core_writeconfig), libxl's padded records (libxl__stream_write's
 * write_record), and one write that reports a gone peer as StreamEnd.
 * @module
 */
import type { Writable } from 'node:stream';
import {
  recordPadding,
  REC_HEADER_LEN,
  REC_TYPE_CHECKPOINT_STATE,
  SAVEFILE_BYTEORDER,
  SAVEFILE_HEADER_LEN,
  SAVEFILE_MAGIC,
  StreamEnd,
  XL_MANDATORY_FLAG_JSON,
  XL_MANDATORY_FLAG_STREAMV2,
} from './messages.js';

// save_domain_core_writeconfig: the header, then the config length and the config as optional data
export function saveHeader(config: Buffer): Buffer {
  const hdr = Buffer.alloc(SAVEFILE_HEADER_LEN);
  SAVEFILE_MAGIC.copy(hdr, 0);
  hdr.writeUInt32LE(SAVEFILE_BYTEORDER, 32);
  hdr.writeUInt32LE(XL_MANDATORY_FLAG_STREAMV2 | (config.length ? XL_MANDATORY_FLAG_JSON : 0), 36);
  hdr.writeUInt32LE(0, 40);
  hdr.writeUInt32LE(4 + config.length, 44);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(config.length);
  return Buffer.concat([hdr, len, config]);
}

/** One libxl v2 record: type, length, body padded to 8 bytes. */
export function record(type: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.alloc(REC_HEADER_LEN + body.length + recordPadding(body.length));
  out.writeUInt32LE(type, 0);
  out.writeUInt32LE(body.length, 4);
  body.copy(out, REC_HEADER_LEN);
  return out;
}

/** A CHECKPOINT_STATE record carrying `id` (libxl_sr_checkpoint_state). */
export function checkpointState(id: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(id);
  return record(REC_TYPE_CHECKPOINT_STATE, b);
}

/** Writes to the peer; a peer gone (EPIPE, a destroyed pipe) is a StreamEnd. */
export function write(w: Writable, data: Buffer | string): Promise<void> {
  if (w.destroyed || w.writableEnded) return Promise.reject(new StreamEnd('write: the stream is closed'));
  return new Promise((resolve, reject) => w.write(data, (e) => (e ? reject(new StreamEnd(`write: ${e.message}`, { cause: e })) : resolve())));
}
