/**
 * colo-xl and Xen 4.17's real `xl` on one host: the saved domain configuration is the same file
 * (libxl's `userdata-d.<domid>.<uuid>.libxl-json`) and the per-domain userdata lock the same
 * flock(2) on the same file, so neither loses the other's read-modify-write.
 *
 * Real xl runs its non-dry-run block-attach under the shims (xs-nohv, xl-nohv, xl-domain: the
 * domain exists, with the UUID staged for it) against the shimmed C xenstored. libxl's
 * XEN_LIB_DIR is compiled in as /var/lib/xen, so each xl runs in its own mount namespace with a
 * test directory bound there; colo-xl is pointed at the same directory.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CapturedIo } from '../../cli/io.js';
import { main as cliMain } from '../../cli/main.js';
import { libxlCtx, type LibxlCtx } from '../../lib/libxl/ctx.js';
import { getDomainConfiguration, setDomainConfiguration } from '../../lib/libxl/domain.js';
import { domainMake } from '../../lib/libxl/domain-make.js';
import { lockDomainUserdata } from '../../lib/libxl/userdata.js';
import type { XsClient } from '../../lib/xenstore/client.js';
import { openXenstore } from '../../lib/xenstore/open.js';
import { buildShim, startRealXenstored, type RealXenstored } from '../support/real-xenstored.js';
import { XL_BIN } from '../support/real-xl.js';
import { requireFile } from '../support/require-tool.js';

const DOMID = 7;
const UUID = '6b1f0c1e-8f3a-4d2b-9a51-0c3e5f7a9b21';
const CONFIG = `userdata-d.${DOMID}.${UUID}.libxl-json`;
const LOCK = `userdata-l.${DOMID}.${UUID}.domain-userdata-lock`;

interface Xl {
  child: ChildProcess;
  done: Promise<{ status: number | null; stdout: string; stderr: string }>;
}

/** flock(2) entries of /proc/locks on inode `ino`: the holder's pid and those blocked behind it. */
function flocksOn(ino: number): { held: number[]; waiting: number[] } {
  const held: number[] = [];
  const waiting: number[] = [];
  for (const line of readFileSync('/proc/locks', 'utf8').split('\n')) {
    const m = /^\d+: (-> )?FLOCK\s+ADVISORY\s+WRITE\s+(\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/.exec(line);
    if (m && Number(m[3]) === ino) (m[1] ? waiting : held).push(Number(m[2]));
  }
  return { held, waiting };
}

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('the saved configuration and its lock, shared with real xl 4.17', function () {
  this.timeout(60_000);
  let xsd: RealXenstored;
  let dir: string;
  let libDir: string;
  let shims: string;
  let xs: XsClient;
  let ctx: LibxlCtx;
  let stopBackend: () => Promise<void>;
  const img = (n: number): string => join(dir, `d${n}.img`);
  const disks = (): unknown[] => (JSON.parse(readFileSync(join(libDir, CONFIG), 'utf8').replace(/\0$/, '')) as { disks?: unknown[] }).disks ?? [];
  const vdevs = (): string[] => disks().map((d) => (d as { vdev: string }).vdev);

  /** Real `xl <args>` with /var/lib/xen bound to libDir; `hold` makes it keep the userdata lock. */
  function xl(args: string[], hold?: string): Xl {
    const script = 'mount -t tmpfs none /var/lib && mkdir /var/lib/xen && mount --bind "$LIB_DIR" /var/lib/xen && exec "$@"';
    const child = spawn('unshare', ['-m', 'sh', '-c', script, 'sh', XL_BIN, ...args], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        LD_PRELOAD: shims,
        XENSTORED_PATH: xsd.socketPath,
        XS_SHIM_DIR: xsd.rundir,
        LIB_DIR: libDir,
        ...(hold ? { XL_SHIM_HOLD_DIR: hold } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    const done = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
      child.on('close', (status) => {
        clearTimeout(timer);
        resolve({ status, stdout, stderr });
      }),
    );
    return { child, done };
  }

  async function coloXl(...args: string[]): Promise<{ status: number; stderr: string }> {
    const io = new CapturedIo();
    const status = await cliMain(args, io, { PATH: process.env.PATH, XENSTORED_PATH: xsd.socketPath, COLO_XL_USERDATA_DIR: libDir });
    return { status, stderr: io.stderr };
  }

  before(async () => {
    requireFile(XL_BIN, 'xen-utils-4.17');
    requireFile('/usr/bin/unshare', 'util-linux');
    // a private mount namespace for xl's /var/lib/xen needs CAP_SYS_ADMIN: tools/test.sh runs as root
    assert.equal(process.getuid?.(), 0, 'this test runs real xl in a mount namespace of its own, which needs root');
    shims = ['xs-nohv-shim', 'xl-nohv-shim', 'xl-domain-shim'].map(buildShim).join(' ');
    xsd = await startRealXenstored();
    dir = mkdtempSync(join(tmpdir(), 'colo-xl-userdata-'));
    libDir = join(dir, 'xen-lib');
    mkdirSync(libDir);
    for (let n = 1; n <= 7; n++) writeFileSync(img(n), '');
    writeFileSync(join(xsd.rundir, `uuid-${DOMID}`), UUID);
    xs = await openXenstore({ env: { XENSTORED_PATH: xsd.socketPath } });
    ctx = libxlCtx(xs, { userdataDir: libDir });
    // what libxl__get_domid reads (xl's own domain), and a backend that reaches InitWait, libxl's wait
    await xs.write('/local/domain/0/domid', '0');
    const watch = await xs.watch('/local/domain/0/backend', 'backend');
    const loop = (async () => {
      for await (const ev of watch) {
        if (ev.path.endsWith('/state') && (await xs.tryRead(ev.path)) === '1') await xs.write(ev.path, '2').catch(() => {});
      }
    })();
    stopBackend = async () => {
      await watch.close();
      await loop.catch(() => {});
    };
  });
  after(async () => {
    await stopBackend?.();
    await xs?.close();
    await xsd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a configuration real xl saved is found and updated by colo-xl, and read back by real xl', async () => {
    // the domain's xenstore home, and the libxl_domain_config real xl makes of an xl.cfg
    const cfg = join(dir, 'guest.cfg');
    writeFileSync(cfg, 'name = "guest"\ntype = "hvm"\nmemory = 128\n');
    const made = await xl(['-N', 'create', cfg]).done;
    assert.equal(made.status, 0, made.stderr);
    await domainMake(ctx, { domid: DOMID, name: 'guest', uuid: UUID, type: 'hvm', configJson: made.stdout });
    assert.ok(existsSync(join(libDir, CONFIG)), `staged as ${CONFIG}`);

    // real xl adds a disk: libxl reads the file under its lock and saves all of it again
    let r = await xl(['block-attach', String(DOMID), `vdev=xvdb,format=raw,target=${img(1)}`]).done;
    assert.equal(r.status, 0, r.stderr);
    const saved = readFileSync(join(libDir, CONFIG));
    assert.equal(saved.at(-1), 0, 'libxl stores the JSON with its terminating NUL');
    assert.deepEqual(vdevs(), ['xvdb']);
    const before = JSON.parse(saved.toString('utf8').replace(/\0$/, '')) as Record<string, unknown>;

    // colo-xl finds that file (libxl's name) and adds its disk to it
    const ours = await coloXl('block-attach', '--no-wait', String(DOMID), `vdev=xvdc,format=raw,target=${img(2)}`);
    assert.deepEqual(ours, { status: 0, stderr: '' });
    assert.deepEqual(vdevs(), ['xvdb', 'xvdc']);
    const after = JSON.parse(readFileSync(join(libDir, CONFIG), 'utf8').replace(/\0$/, '')) as Record<string, unknown>;
    assert.deepEqual({ ...after, disks: undefined }, { ...before, disks: undefined }, 'colo-xl keeps the rest of what xl saved');

    // real xl parses what colo-xl wrote (libxl_domain_config_from_json) and keeps its disk
    r = await xl(['block-attach', String(DOMID), `vdev=xvdd,format=raw,target=${img(3)}`]).done;
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(vdevs(), ['xvdb', 'xvdc', 'xvdd']);
    assert.deepEqual(disks()[1], { pdev_path: img(2), vdev: 'xvdc', format: 'raw', readwrite: 1 });
    // both let go of the lock as libxl does: by unlinking its file
    assert.equal(existsSync(join(libDir, LOCK)), false);
  });

  it('real xl holding the userdata lock makes colo-xl wait, and no update is lost', async () => {
    const hold = mkdtempSync(join(dir, 'hold-'));
    const theirs = xl(['block-attach', String(DOMID), `vdev=xvde,format=raw,target=${img(4)}`], hold);
    await until('xl to take the lock', () => existsSync(join(hold, 'held')));
    const ino = statSync(join(libDir, LOCK)).ino;
    assert.deepEqual(flocksOn(ino).held, [theirs.child.pid], 'xl holds an flock on libxl\'s lock file');

    const started = Date.now();
    let settled = false;
    const ours = coloXl('block-attach', '--no-wait', String(DOMID), `vdev=xvdf,format=raw,target=${img(5)}`).finally(() => (settled = true));
    await sleep(1500);
    assert.equal(settled, false, 'colo-xl went ahead while xl held the lock');
    assert.ok(!vdevs().includes('xvdf'));

    writeFileSync(join(hold, 'release'), '');
    const r = await theirs.done;
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(await ours, { status: 0, stderr: '' });
    const waited = Date.now() - started;
    // xl's read-modify-write first, then colo-xl's on top of it
    assert.deepEqual(vdevs().slice(-2), ['xvde', 'xvdf']);
    process.stdout.write(`      colo-xl waited ${waited} ms behind xl (held ≥ 1500 ms)\n`);
  });

  it('colo-xl holding the userdata lock makes real xl wait, blocked in flock(2) on the same file', async () => {
    const lock = await lockDomainUserdata(ctx, DOMID);
    const ino = statSync(join(libDir, LOCK)).ino;
    const started = Date.now();
    const theirs = xl(['block-attach', String(DOMID), `vdev=xvdg,format=raw,target=${img(6)}`]);
    let exited = false;
    void theirs.done.then(() => (exited = true));
    try {
      await until('xl to block on the lock', () => flocksOn(ino).waiting.includes(theirs.child.pid!) || exited);
      assert.equal(exited, false, 'xl went ahead while colo-xl held the lock');
      assert.deepEqual(flocksOn(ino).held, [process.pid]);
      // colo-xl's own read-modify-write while it holds the lock
      const config = await getDomainConfiguration(ctx, DOMID);
      (config.disks as unknown[]).push({ pdev_path: img(7), vdev: 'xvdh', format: 'raw', readwrite: 1 });
      await setDomainConfiguration(ctx, DOMID, JSON.stringify(config));
      await sleep(500);
      assert.equal(exited, false);
    } finally {
      lock.release();
    }
    const r = await theirs.done;
    assert.equal(r.status, 0, r.stderr);
    process.stdout.write(`      xl waited ${Date.now() - started} ms behind colo-xl\n`);
    // xl read the configuration after colo-xl's change, so it kept it
    assert.deepEqual(vdevs().slice(-2), ['xvdh', 'xvdg']);
    assert.equal(existsSync(join(libDir, LOCK)), false);
  });
});
