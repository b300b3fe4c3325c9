/**
 * The xl/libxl save stream as `xl migrate` and `xl remus` send it: xl's save header and libxl's
 * v2 records (libxl_sr_stream_format.h), read from and written to Node streams.
 * @module
 */
export {
  MIGRATE_RECEIVER_BANNER,
  SAVEFILE_MAGIC,
  SAVEFILE_BYTEORDER,
  SAVEFILE_HEADER_LEN,
  XL_MANDATORY_FLAG_JSON,
  XL_MANDATORY_FLAG_STREAMV2,
  REC_HEADER_LEN,
  REC_TYPE_END,
  REC_TYPE_CHECKPOINT_END,
  REC_TYPE_CHECKPOINT_STATE,
  CHECKPOINT_NEW,
  CHECKPOINT_SVM_SUSPENDED,
  CHECKPOINT_SVM_READY,
  CHECKPOINT_SVM_RESUMED,
  StreamEnd,
  recordPadding,
  type SaveHeader,
  type StreamRecord,
} from './messages.js';
export { ExactReader, readSaveHeader, readRecord } from './reader.js';
export { saveHeader, record, checkpointState, write } from './writer.js';
