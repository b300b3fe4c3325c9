/**
 * The fencing hook: a site command (STONITH, a PDU, a storage reservation…) run before a node
 * takes over, with the peer's identity as $1 and in COLO_XL_PEER / COLO_XL_PEER_ADDR. Exit 0
 * means the peer is fenced; anything else (or a timeout) blocks the takeover.
 */
import { spawn } from 'node:child_process';
import { formatHostPort, type HostPort } from '../util/host-port.js';
import type { WaitOptions } from '../util/wait.js';

/** How long the fence command may run when the caller gives no timeoutMs. */
export const FENCE_TIMEOUT_MS = 10_000;

export interface FenceResult {
  ok: boolean;
  code: number | null;
  ms: number;
  output: string;
}

/**
 * Runs the fence command; past `timeoutMs` (default 10 s) or at the caller's abort it is killed
 * and counts as failed (code null): an unfinished fence must not let a takeover through.
 */
export async function runFenceCmd(cmd: string, peer: string, peerAddr: HostPort, o: WaitOptions = {}): Promise<FenceResult> {
  const t = performance.now();
  const timeoutMs = o.timeoutMs ?? FENCE_TIMEOUT_MS;
  const child = spawn('/bin/sh', ['-c', cmd, 'colo-xl-fence', peer], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, COLO_XL_PEER: peer, COLO_XL_PEER_ADDR: formatHostPort(peerAddr) },
  });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const code = await new Promise<number | null>((resolve) => {
    const kill = (): void => {
      child.kill('SIGKILL');
      done(null);
    };
    const timer = setTimeout(kill, timeoutMs);
    const done = (c: number | null): void => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', kill);
      resolve(c);
    };
    if (o.signal?.aborted) kill();
    else o.signal?.addEventListener('abort', kill, { once: true });
    child.on('error', () => done(null));
    child.on('exit', (c) => done(c));
  });
  return { ok: code === 0, code, ms: performance.now() - t, output: output.trim() };
}
