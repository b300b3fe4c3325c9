/**
 * Run by linger.test.ts as its own Node process: opens a QMP client in one of a few ways, ends it,
 * prints "closed", and then must leave promptly (no timer or socket of the client may keep Node
 * alive). Usage: linger-child.ts SCENARIO SOCKET
 */
import { QMPClient } from '../../lib/qmp/client.js';

const [scenario, socket] = process.argv.slice(2) as [string, string];
const client = new QMPClient('linger');
const settle = (p: Promise<unknown>): Promise<unknown> => p.then(() => 'ok', (e: Error) => e.name);
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const scenarios: Record<string, () => Promise<unknown[]>> = {
  /** disconnect() while connect() is still retrying a missing socket */
  async retry() {
    const c = settle(client.connect(`${socket}.absent`, { retryMs: 60_000 }));
    await pause(100);
    await client.disconnect();
    return [await c];
  },
  /** disconnect() while the server has not greeted */
  async setup() {
    const c = settle(client.connect(socket, { timeoutMs: 60_000 }));
    await pause(100);
    await client.disconnect();
    return [await c];
  },
  /** disconnect() with a command (30 s default timeout) and an event wait (30 s) pending */
  async pending() {
    await client.connect(socket);
    const cmd = settle(client.execute('query-status'));
    const ev = settle(client.listen('STOP').get({ timeoutMs: 30_000 }));
    await pause(50);
    await client.disconnect();
    return [await cmd, await ev];
  },
  /** the server breaks the protocol with a command pending; nobody calls disconnect() */
  async hostile() {
    await client.connect(socket);
    return [await settle(client.execute('query-status'))];
  },
};

const outcome = await scenarios[scenario]!();
process.stdout.write(`closed ${JSON.stringify(outcome)}\n`);
