/**
 * The permissions `colo-xl block-attach` gives a disk's nodes (xen-libxl-spec §4.5), checked from
 * the guest's side: a connection that IS the guest domain reads its frontend and its backend,
 * may write its frontend, cannot write the backend, cannot read another guest's nodes nor the
 * toolstack's /libxl copy. One table runs against Xen 4.17's real C xenstored (the guest talks
 * through its shared ring, see test/support/guest-xenstore.ts) and against the embedded store,
 * so the two are provably alike.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CapturedIo } from '../../cli/io.js';
import { main as cliMain } from '../../cli/main.js';
import { libxlCtx, type LibxlCtx } from '../../lib/libxl/ctx.js';
import { domainMake } from '../../lib/libxl/domain-make.js';
import type { XsClient } from '../../lib/xenstore/client.js';
import { XsError } from '../../lib/xenstore/messages.js';
import { openXenstore } from '../../lib/xenstore/open.js';
import { EmbeddedXenstored } from '../../lib/xenstore/server/embedded.js';
import { buildRingClient, guestClient, openGuestXenstore } from '../support/guest-xenstore.js';
import { startRealXenstored, type RealXenstored } from '../support/real-xenstored.js';

interface Server {
  socket: string;
  /** A connection the server treats as domain `domid` (unprivileged). */
  guest(domid: number): Promise<XsClient>;
  stop(): Promise<void>;
}

const servers: Record<string, (dir: string) => Promise<Server>> = {
  'Xen 4.17 C xenstored': async () => {
    const x = await startRealXenstored();
    return { socket: x.socketPath, guest: (domid) => openGuestXenstore(x, domid), stop: () => x.stop() };
  },
  'colo-xl embedded xenstored': async (dir) => {
    const e = new EmbeddedXenstored();
    const socket = join(dir, 'xs.sock');
    await e.listen(socket);
    return { socket, guest: async (domid) => e.client({ domid }), stop: () => e.close() };
  },
};

const FE3 = '/local/domain/3/device/vbd/51712';
const BE3 = '/local/domain/0/backend/vbd/3/51712';
const FE4 = '/local/domain/4/device/vbd/51712';
const BE4 = '/local/domain/0/backend/vbd/4/51712';

type Step =
  | { as: number; read: string; expect: string }
  | { as: number; directory: string; expect: string[] }
  | { as: number; write: string; value: string; expect: 'ok' | string };

/** What each guest may and may not do; `expect` is the value read, or 'ok', or the error code. */
const table: Step[] = [
  { as: 3, read: `${FE3}/backend-id`, expect: '0' },
  { as: 3, read: `${FE3}/backend`, expect: BE3 },
  { as: 3, read: `${BE3}/mode`, expect: 'w' },
  { as: 3, read: `${BE3}/frontend-id`, expect: '3' },
  { as: 3, directory: FE3, expect: ['backend', 'backend-id', 'device-type', 'state', 'trusted', 'virtual-device'] },
  { as: 3, write: `${FE3}/state`, value: '3', expect: 'ok' },
  { as: 3, read: `${FE3}/state`, expect: '3' },
  { as: 3, read: `${FE3}/no-such-key`, expect: 'ENOENT' },
  { as: 3, write: `${BE3}/mode`, value: 'r', expect: 'EACCES' },
  { as: 3, write: `${BE3}/state`, value: '4', expect: 'EACCES' },
  { as: 3, read: `${BE3}/mode`, expect: 'w' },
  { as: 3, read: `${FE4}/backend-id`, expect: 'EACCES' },
  { as: 3, directory: FE4, expect: 'EACCES' as unknown as string[] },
  { as: 3, write: `${FE4}/state`, value: '3', expect: 'EACCES' },
  { as: 3, read: `${BE4}/params`, expect: 'EACCES' },
  { as: 3, read: '/libxl/3/device/vbd/51712/params', expect: 'EACCES' },
  { as: 3, write: '/libxl/3/device/vbd/51712/params', value: '/etc/shadow', expect: 'EACCES' },
  { as: 4, read: `${FE4}/backend-id`, expect: '0' },
  { as: 4, read: `${BE4}/mode`, expect: 'w' },
  { as: 4, read: `${FE3}/state`, expect: 'EACCES' },
  { as: 4, read: `${BE3}/params`, expect: 'EACCES' },
];

function describeStep(s: Step): string {
  if ('read' in s) return `dom${s.as} read ${s.read}`;
  if ('directory' in s) return `dom${s.as} directory ${s.directory}`;
  return `dom${s.as} write ${s.write}=${s.value}`;
}

/** Runs a step and returns what happened in the table's terms. */
async function run(guest: XsClient, s: Step): Promise<string | string[]> {
  try {
    if ('read' in s) return await guest.read(s.read);
    if ('directory' in s) return (await guest.directory(s.directory)).sort();
    await guest.write(s.write, s.value);
    return 'ok';
  } catch (e) {
    if (e instanceof XsError) return e.errnoName;
    throw e;
  }
}

for (const [name, start] of Object.entries(servers)) {
  describe(`a guest's view of its disks on ${name}`, function () {
    this.timeout(30_000);
    let dir: string;
    let server: Server;
    let ctx: LibxlCtx;
    let env: NodeJS.ProcessEnv;
    const guests = new Map<number, XsClient>();

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'colo-xl-guest-perms-'));
      server = await start(dir);
      env = { PATH: process.env.PATH, XENSTORED_PATH: server.socket, COLO_XL_USERDATA_DIR: join(dir, 'ud') };
      const xs = await openXenstore({ env, mode: 'daemon' });
      ctx = libxlCtx(xs, { userdataDir: env.COLO_XL_USERDATA_DIR! });
      const img = join(dir, 'd.img');
      writeFileSync(img, '');
      for (const domid of [3, 4]) {
        const uuid = `00000000-0000-4000-8000-00000000000${domid}`;
        await domainMake(ctx, { domid, name: `guest${domid}`, uuid, type: 'hvm' });
        const io = new CapturedIo();
        const status = await cliMain(['block-attach', '--no-wait', String(domid), `vdev=xvda,target=${img}`], io, env);
        assert.deepEqual({ status, stderr: io.stderr }, { status: 0, stderr: '' });
        guests.set(domid, await server.guest(domid));
      }
    });
    after(async () => {
      for (const g of guests.values()) await g.close();
      guests.clear();
      await ctx?.xs.close();
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('every step of the permission table gives the expected value or error', async () => {
      const got: string[] = [];
      const want: string[] = [];
      for (const s of table) {
        got.push(`${describeStep(s)} -> ${JSON.stringify(await run(guests.get(s.as)!, s))}`);
        want.push(`${describeStep(s)} -> ${JSON.stringify(s.expect)}`);
      }
      assert.deepEqual(got, want);
      // The guest's write landed, as the toolstack sees it, and the refused ones did not.
      assert.equal(await ctx.xs.read(`${FE3}/state`), '3');
      assert.equal(await ctx.xs.read(`${BE3}/mode`), 'w');
      assert.equal(await ctx.xs.read(`${FE4}/state`), '1');
      assert.equal(await ctx.xs.read('/libxl/3/device/vbd/51712/params'), join(dir, 'd.img'));
    });

    it('a guest watching its frontend hears the toolstack change it', async () => {
      const w = await guests.get(3)!.watch(`${FE3}/state`, 'fe-state');
      try {
        assert.deepEqual(await w.next({ timeoutMs: 5000 }), { path: `${FE3}/state`, token: 'fe-state' });
        await ctx.xs.write(`${FE3}/state`, '4');
        assert.deepEqual(await w.next({ timeoutMs: 5000 }), { path: `${FE3}/state`, token: 'fe-state' });
        assert.equal(await guests.get(3)!.read(`${FE3}/state`), '4');
      } finally {
        await w.close();
      }
    });

    it('requests and replies several times the ring size go through whole', async () => {
      // 1024-byte rings: pipelined packets wrap around and are split over several fills
      const text = (n: number): string => Array.from({ length: n }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
      const g = guests.get(3)!;
      await Promise.all([1, 2, 3].map((n) => g.write(`${FE3}/blob${n}`, text(1500) + n)));
      assert.deepEqual(await Promise.all([1, 2, 3].map((n) => g.read(`${FE3}/blob${n}`))), [1, 2, 3].map((n) => text(1500) + n));
      assert.equal(await ctx.xs.read(`${FE3}/blob2`), `${text(1500)}2`);
      // a guest's node is limited to 2048 bytes (xenstored's default -S quota); dom0's is not
      await assert.rejects(g.write(`${FE3}/huge`, text(3900)), { errnoName: 'ENOSPC' });
      await ctx.xs.write(`${FE3}/huge`, text(3900));
      assert.equal(await g.read(`${FE3}/huge`), text(3900));
    });
  });
}

describe('the shim\'s guest rings on Xen 4.17 C xenstored', function () {
  this.timeout(30_000);
  let x: RealXenstored | undefined;
  afterEach(async () => {
    await x?.stop();
    x = undefined;
  });

  it('xs-ring-client answers one request as the domain from the command line', async () => {
    x = await startRealXenstored();
    const dom0 = await openXenstore({ env: { XENSTORED_PATH: x.socketPath }, mode: 'daemon' });
    try {
      await dom0.write('/local/domain/7/name', 'seven');
      await dom0.setPerms('/local/domain/7', [{ domid: 7, access: 'none' }]);
      await dom0.write('/secret', 'x');
    } finally {
      await dom0.close();
    }
    const ring = await x.introduceDomain(7);
    const bin = buildRingClient();
    const cli = (...args: string[]): { status: number; out: string } => {
      try {
        return { status: 0, out: execFileSync(bin, [ring.ringPath, ring.evtchnPath, String(ring.port), ...args], { encoding: 'utf8' }) };
      } catch (e) {
        const err = e as { status: number; stdout: string };
        return { status: err.status, out: err.stdout };
      }
    };
    assert.deepEqual(cli('directory', '/local/domain/7'), { status: 0, out: 'name\n' });
    assert.deepEqual(cli('write', '/local/domain/7/data/x', 'hello'), { status: 0, out: 'OK\n' });
    assert.deepEqual(cli('read', '/local/domain/7/data/x'), { status: 0, out: 'hello\n' });
    assert.deepEqual(cli('read', '/secret'), { status: 1, out: 'EACCES\n' });
    assert.deepEqual(cli('read', '/local/domain/7/none'), { status: 1, out: 'ENOENT\n' });
  });

  it('a domain the shim reports gone is released when the exception VIRQ fires', async () => {
    x = await startRealXenstored();
    const ring = await x.introduceDomain(5);
    const guest = guestClient(ring);
    const dom0 = await openXenstore({ env: { XENSTORED_PATH: x.socketPath }, mode: 'daemon' });
    try {
      assert.equal(await guest.getDomainPath(5), '/local/domain/5');
      assert.equal(await dom0.isDomainIntroduced(5), true);
      const w = await dom0.watch('@releaseDomain', 'rel');
      assert.deepEqual(await w.next({ timeoutMs: 5000 }), { path: '@releaseDomain', token: 'rel' });
      x.markDomainDead(5);
      x.raiseDomainException();
      assert.deepEqual(await w.next({ timeoutMs: 5000 }), { path: '@releaseDomain', token: 'rel' });
      assert.equal(await dom0.isDomainIntroduced(5), false);
      await w.close();
    } finally {
      await guest.close();
      await dom0.close();
    }
  });
});
