import { HEADER_SIZE, PAYLOAD_MAX, XsError, opName, type Packet } from './messages.js';

/** The 16 little-endian header bytes followed by the payload, as one buffer. */
export function serializePacket(p: Packet): Buffer {
  if (p.payload.length > PAYLOAD_MAX) {
    throw new XsError('E2BIG', opName(p.type), undefined, `payload of ${p.payload.length} bytes exceeds ${PAYLOAD_MAX}`);
  }
  const out = Buffer.allocUnsafe(HEADER_SIZE + p.payload.length);
  out.writeUInt32LE(p.type >>> 0, 0);
  out.writeUInt32LE(p.reqId >>> 0, 4);
  out.writeUInt32LE(p.txId >>> 0, 8);
  out.writeUInt32LE(p.payload.length, 12);
  p.payload.copy(out, HEADER_SIZE);
  return out;
}

/** Several packets in one buffer, so a pipelined batch costs one socket write. */
export function serializePackets(ps: readonly Packet[]): Buffer {
  return Buffer.concat(ps.map(serializePacket));
}
