/**
 * Heartbeat, failover and split-brain guards for a COLO pair.
 * @module
 */
export { Heartbeat, parseHostPort, DEFAULT_INTERVAL_MS, DEFAULT_MISS_COUNT, type HeartbeatOptions, type HostPort, type PeerLost } from './heartbeat.js';
export { HaAgent, formatHaReport, type HaAgentOptions, type HaReport, type HaGuard } from './agent.js';
export { WitnessServer, askWitness, type WitnessAnswer } from './witness.js';
export { runFenceCmd, type FenceResult } from './fence.js';
