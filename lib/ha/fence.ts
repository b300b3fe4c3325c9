/**
 * The fencing hook: a site command (STONITH, a PDU, a storage reservation…) run before a node
 * takes over, with the peer's identity as $1 and in COLO_XL_PEER / COLO_XL_PEER_ADDR. Exit 0
 * means the peer is fenced; anything else (or a timeout) blocks the takeover.
 */
import { spawn } from 'node:child_process';
import type { HostPort } from './heartbeat.js';

export interface FenceResult {
  ok: boolean;
  code: number | null;
  ms: number;
  output: string;
}

export async function runFenceCmd(cmd: string, peer: string, peerAddr: HostPort, timeoutMs = 10_000): Promise<FenceResult> {
  const t = performance.now();
  const child = spawn('/bin/sh', ['-c', cmd, 'colo-xl-fence', peer], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, COLO_XL_PEER: peer, COLO_XL_PEER_ADDR: `${peerAddr.host}:${peerAddr.port}` },
  });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(null);
    }, timeoutMs);
    child.on('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  return { ok: code === 0, code, ms: performance.now() - t, output: output.trim() };
}
