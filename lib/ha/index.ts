/**
 * Heartbeat, failover and split-brain guards for a COLO pair.
 * @module
 */
export { Heartbeat, DEFAULT_INTERVAL_MS, DEFAULT_MISS_COUNT, type HeartbeatOptions, type HeartbeatMessage, type PeerLost } from './heartbeat.js';
export { parseHostPort, formatHostPort, type HostPort } from '../util/host-port.js';
export { HaAgent, formatHaReport, type HaAgentOptions, type HaReport, type HaGuard } from './agent.js';
export { WitnessServer, askWitness, WITNESS_TIMEOUT_MS, type WitnessAnswer } from './witness.js';
export { runFenceCmd, FENCE_TIMEOUT_MS, type FenceResult } from './fence.js';
