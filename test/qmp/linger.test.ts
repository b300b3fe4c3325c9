/**
 * A closed QMP client leaves nothing that keeps Node alive: each scenario runs in a child process
 * (linger-child.ts) that ends its client and must then exit at once, not when some retry loop or
 * timeout of the client runs out (those are set to 30-60 s, so a leak shows as a long linger).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeQmpServer, type FakeConn } from './fake-server.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'linger-child.ts');
/** Generous for a busy 2-core machine; a leaked timer would hold the child 30 s or more. */
const PROMPT_MS = 5000;

interface Run {
  outcome: unknown[];
  lingerMs: number;
  code: number | null;
}

function runChild(scenario: string, socket: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', CHILD, scenario, socket], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let closedAt = 0;
    p.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (closedAt === 0 && out.includes('\n')) closedAt = Date.now();
    });
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const kill = setTimeout(() => p.kill('SIGKILL'), 120_000);
    p.on('error', reject);
    p.on('exit', (code) => {
      clearTimeout(kill);
      const m = /^closed (.*)$/m.exec(out);
      if (!m || closedAt === 0) return reject(new Error(`child ${scenario} did not finish (exit ${code}): ${err}`));
      resolve({ outcome: JSON.parse(m[1]!) as unknown[], lingerMs: Date.now() - closedAt, code });
    });
  });
}

describe('a closed QMP client lets Node exit', function () {
  this.timeout(150_000);
  let server: FakeQmpServer;
  beforeEach(async () => {
    server = await FakeQmpServer.unix();
  });
  afterEach(async () => {
    await server.close();
  });

  async function check(scenario: string, serve: (c: FakeConn) => Promise<void>, expected: unknown[]): Promise<void> {
    const served = server.accept().then(serve);
    const run = await runChild(scenario, server.path);
    assert.equal(run.code, 0);
    assert.deepEqual(run.outcome, expected);
    assert.ok(run.lingerMs < PROMPT_MS, `${scenario}: the child lingered ${run.lingerMs} ms after closing its client`);
    if (scenario !== 'retry') await served;
  }

  it('after disconnect() during connect retries (retryMs 60 s)', async () => {
    await check('retry', async () => undefined, ['QMPConnectError']);
  });

  it('after disconnect() during set-up (timeoutMs 60 s, no greeting)', async () => {
    await check('setup', async () => undefined, ['QMPConnectError']);
  });

  it('after disconnect() with a command and an event wait pending', async () => {
    await check('pending', async (c) => {
      await c.handshake();
      await c.next();
    }, ['QMPExecInterruptedError', 'QMPExecInterruptedError']);
  });

  it('after a peer broke the protocol, without a disconnect() call', async () => {
    await check('hostile', async (c) => {
      await c.handshake();
      await c.next();
      c.raw(`{"surprise": ${'['.repeat(100_000)}${']'.repeat(100_000)}}\n`);
    }, ['QMPExecInterruptedError']);
  });
});
