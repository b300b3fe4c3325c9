/**
 * `kill -9` of `colo-xl block-attach` at random moments: the device is in xenstore whole or not
 * at all, because every node is written in one transaction that dies with its connection.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devidToVdev, deviceDiskDevNumber } from '../../lib/libxl/devnum.js';
import { libxlCtx, type LibxlCtx } from '../../lib/libxl/ctx.js';
import { domainMake } from '../../lib/libxl/domain-make.js';
import { EmbeddedXenstored } from '../../lib/xenstore/server/embedded.js';
import { startRealXenstored } from '../support/real-xenstored.js';
import { openXenstore } from '../../lib/xenstore/open.js';
import { requireFile } from '../support/require-tool.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'colo-xl.js');

/** Runs block-attach and kills it with SIGKILL after `killAfterMs` (if it is still running). */
function attachAndKill(env: NodeJS.ProcessEnv, args: string[], killAfterMs: number): Promise<{ killed: boolean; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [BIN, 'block-attach', '--no-wait', ...args], { env, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve({ killed: signal === 'SIGKILL', ms: Date.now() - t0 });
    });
  });
}

const FRONT_KEYS = ['backend', 'backend-id', 'device-type', 'state', 'trusted', 'virtual-device'];
const BACK_KEYS = ['bootable', 'dev', 'device-type', 'discard-enable', 'frontend', 'frontend-id', 'mode', 'online', 'params', 'removable', 'script', 'specification', 'state', 'type'];

/** 'all', 'none', or a description of what a half-written device looks like. */
async function deviceState(ctx: LibxlCtx, devid: number): Promise<string> {
  const dirs: [string, string[]][] = [
    [`/local/domain/3/device/vbd/${devid}`, FRONT_KEYS],
    [`/local/domain/0/backend/vbd/3/${devid}`, BACK_KEYS],
    [`/libxl/3/device/vbd/${devid}`, [...BACK_KEYS.filter((k) => k !== 'frontend'), 'backend', 'frontend'].sort()],
  ];
  const seen = await Promise.all(dirs.map(async ([d]) => ((await ctx.xs.exists(d)) ? (await ctx.xs.directory(d)).sort() : null)));
  if (seen.every((s) => s === null)) return 'none';
  if (seen.every((s, i) => JSON.stringify(s) === JSON.stringify([...dirs[i]![1]].sort()))) return 'all';
  return JSON.stringify(seen);
}

const servers: Record<string, (dir: string) => Promise<{ socket: string; stop(): Promise<void> }>> = {
  'the embedded xenstored': async (dir) => {
    const e = new EmbeddedXenstored();
    const socket = join(dir, 'xs.sock');
    await e.listen(socket);
    return { socket, stop: () => e.close() };
  },
  "Xen's C xenstored": async () => {
    const x = await startRealXenstored();
    return { socket: x.socketPath, stop: () => x.stop() };
  },
};
const ROUNDS: Record<string, number> = { 'the embedded xenstored': 200, "Xen's C xenstored": 60 };

for (const [name, start] of Object.entries(servers)) {
  describe(`block-attach killed with SIGKILL at random moments (${name})`, function () {
    this.timeout(240_000);
    it(`leaves every device whole or absent, over ${ROUNDS[name]} kills`, async () => {
      requireFile(join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js'), 'colo-xl build (npm run build)');
      const dir = mkdtempSync(join(tmpdir(), 'colo-xl-kill-'));
      const server = await start(dir);
      const env = { PATH: process.env.PATH, XENSTORED_PATH: server.socket, COLO_XL_USERDATA_DIR: join(dir, 'ud') };
      const xs = await openXenstore({ env, mode: 'daemon' });
      const ctx = libxlCtx(xs, { userdataDir: env.COLO_XL_USERDATA_DIR });
      try {
        const img = join(dir, 'd.img');
        writeFileSync(img, '');
        await domainMake(ctx, { domid: 3, name: 'g', uuid: '00000000-0000-4000-8000-000000000003', type: 'hvm' });
        // how long a whole attach takes here; most of it is process start-up, and the kills are
        // steered towards the moment of the commit: later after a kill that came too early,
        // earlier after one that came too late (the machine's load moves that moment)
        const full = await attachAndKill(env, ['3', `vdev=xvda,target=${img}`], 60_000);
        let aim = 0.9;
        assert.equal(await deviceState(ctx, 51712), 'all');
        const tally = { all: 0, none: 0 };
        // a seeded sequence of kill times, so a failure can be replayed
        let seed = 12345;
        const next = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
        for (let i = 1; i <= ROUNDS[name]!; i++) {
          const vdev = devidToVdev((1 << 28) | (i << 8));
          await attachAndKill(env, ['3', `vdev=${vdev},target=${img}`], Math.floor(full.ms * aim * (0.85 + 0.3 * next())));
          const state = await deviceState(ctx, deviceDiskDevNumber(vdev).devid);
          aim = Math.min(3, Math.max(0.2, aim + (state === 'none' ? 0.05 : -0.05)));
          assert.ok(state === 'all' || state === 'none', `kill ${i} left a partial device ${vdev}: ${state}`);
          tally[state]++;
        }
        // the kills must have hit both sides of the commit for the test to mean anything
        assert.ok(tally.all > 0 && tally.none > 0, JSON.stringify(tally));
        console.log(`      ${tally.all} whole, ${tally.none} absent`);
      } finally {
        await xs.close();
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
