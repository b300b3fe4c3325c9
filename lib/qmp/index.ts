export * from './errors.js';
export * from './message.js';
export * from './events.js';
export * from './protocol.js';
export * from './client.js';
export * from './probe.js';
