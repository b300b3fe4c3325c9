/**
 * The shapes of QMP wire messages (qmp-spec: greeting, command, reply, event), with no code: the
 * errors, the framing and the message checks all speak of them, and importing them from here
 * keeps those modules free of cycles.
 * @module
 */

/** Any QMP message: a JSON object, one per line. */
export type QmpMessage = Record<string, unknown>;

export interface QmpGreeting {
  QMP: { version: { qemu: { major: number; minor: number; micro: number }; package: string }; capabilities: string[] };
}

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp: { seconds: number; microseconds: number };
}
