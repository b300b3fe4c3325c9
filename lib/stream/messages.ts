/**
 * The shapes of the stream `xl migrate` / `xl remus` send: the receiver's banner and xl's save
 * file header (xl.h, xl_saverestore.c: save_file_header) in front of libxl's v2 stream records
 * (libxl_sr_stream_format.h: rec_hdr, REC_TYPE_*, and the COLO checkpoint states of
 * libxl_colo.h). Every integer is little-endian, as xl writes it on x86.
 * @module
 */
import { ColoXlError } from '../errors.js';

/** The header as create_domain reads it, with the domain configuration from its optional data. */
export interface SaveHeader {
  mandatoryFlags: number;
  optionalFlags: number;
  optionalDataLen: number;
  config: Buffer;
}

/** One v2 record, its body without the padding. */
export interface StreamRecord {
  type: number;
  body: Buffer;
}

// xl.h: the receiver's first words, and save_file_header's magic and byte-order mark
export const MIGRATE_RECEIVER_BANNER = 'xl migration receiver ready, send binary domain data.\n';
export const SAVEFILE_MAGIC = Buffer.from('Xen saved domain, xl format\n \0 \r', 'latin1');
export const SAVEFILE_BYTEORDER = 0x01020304;
/** save_file_header: magic[32], byteorder, mandatory_flags, optional_flags, optional_data_len. */
export const SAVEFILE_HEADER_LEN = 48;
export const XL_MANDATORY_FLAG_JSON = 1 << 0;
export const XL_MANDATORY_FLAG_STREAMV2 = 1 << 1;

// libxl_sr_stream_format.h: struct libxl__sr_rec_hdr is type and length, the body padded to 8
export const REC_HEADER_LEN = 8;
export const REC_ALIGN = 8;
export const REC_TYPE_END = 0;
export const REC_TYPE_CHECKPOINT_END = 4;
export const REC_TYPE_CHECKPOINT_STATE = 5;

// libxl_colo.h: libxl_sr_checkpoint_state's id
export const CHECKPOINT_NEW = 0;
export const CHECKPOINT_SVM_SUSPENDED = 1;
export const CHECKPOINT_SVM_READY = 2;
export const CHECKPOINT_SVM_RESUMED = 3;

/** The stream ended, or a write found it closed: the peer is gone. */
export class StreamEnd extends ColoXlError {
  constructor(message: string, options?: ErrorOptions) {
    super('STREAM_END', message, options);
  }
}

/** Padding after a body of `len` bytes, to the next 8-byte boundary. */
export function recordPadding(len: number): number {
  return (REC_ALIGN - (len % REC_ALIGN)) % REC_ALIGN;
}
