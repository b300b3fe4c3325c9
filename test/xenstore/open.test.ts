/**
 * openXenstore's choice of store. The library takes the daemon or fails; the CLI ('auto') may use
 * the embedded store, and says so, only where no Xen is present: on a Xen host that store would
 * be a private copy xl never sees. Hosts are staged under a fake root (hostRoot /
 * COLO_XL_HOST_ROOT): /proc/xen, /sys/hypervisor/type, /dev/xen/xenbus.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CapturedIo } from '../../cli/io.js';
import { main as cliMain } from '../../cli/main.js';
import { openCliXenstore } from '../../cli/libxl-session.js';
import type { CliContext } from '../../cli/command.js';
import { defaultStatePath, openXenstore, xenPresence, XenstoreUnavailableError } from '../../lib/xenstore/open.js';
import { EmbeddedStores } from '../../lib/xenstore/server/stores.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** A server that accepts connections and never answers: a hung daemon. */
async function silentSocket(path: string): Promise<Server> {
  const server = createServer((sock) => sock.on('data', () => {}));
  await new Promise<void>((r) => server.listen(path, r));
  return server;
}

describe('openXenstore: the daemon, or (CLI, no Xen here) the embedded store, never silently on Xen', function () {
  this.timeout(30_000);
  let dir: string;
  let plain: string;
  let xen: string;
  let env: NodeJS.ProcessEnv;
  let journal: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'colo-xl-open-'));
    plain = join(dir, 'plain-host');
    mkdirSync(plain);
    xen = join(dir, 'xen-host');
    mkdirSync(join(xen, 'proc', 'xen'), { recursive: true });
    env = { XDG_STATE_HOME: join(dir, 'state'), XENSTORED_PATH: join(dir, 'no-socket') };
    journal = defaultStatePath(env);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const rejection = async (p: Promise<unknown>): Promise<XenstoreUnavailableError> => {
    try {
      await p;
    } catch (e) {
      assert.ok(e instanceof XenstoreUnavailableError, String(e));
      return e;
    }
    return assert.fail('openXenstore succeeded');
  };

  it('tells a Xen host by /proc/xen, /sys/hypervisor/type or the xenbus device', () => {
    assert.equal(xenPresence(plain), undefined);
    assert.equal(xenPresence(xen), '/proc/xen exists');
    const sys = join(dir, 'sys-host');
    mkdirSync(join(sys, 'sys', 'hypervisor'), { recursive: true });
    writeFileSync(join(sys, 'sys', 'hypervisor', 'type'), 'kvm\n');
    assert.equal(xenPresence(sys), undefined);
    writeFileSync(join(sys, 'sys', 'hypervisor', 'type'), 'xen\n');
    assert.equal(xenPresence(sys), '/sys/hypervisor/type is xen');
    const dev = join(dir, 'dev-host');
    mkdirSync(join(dev, 'dev', 'xen'), { recursive: true });
    writeFileSync(join(dev, 'dev', 'xen', 'xenbus'), '');
    assert.equal(xenPresence(dev), '/dev/xen/xenbus exists');
  });

  it("the library default is 'daemon': no daemon is an error naming each path and why, and no store appears", async () => {
    const e = await rejection(openXenstore({ env, hostRoot: plain }));
    assert.deepEqual(e.attempts, [
      { via: 'socket', path: env.XENSTORED_PATH, code: 'ENOENT', reason: 'no such file' },
      { via: 'xenbus', path: join(plain, 'dev/xen/xenbus'), code: 'ENOENT', reason: 'no such file' },
    ]);
    assert.equal(e.xen, undefined);
    assert.equal(existsSync(journal), false);
  });

  it("'auto' on a Xen host fails instead of falling back, saying what showed Xen", async () => {
    let fellBack = false;
    const e = await rejection(openXenstore({ env, mode: 'auto', stores: new EmbeddedStores(), hostRoot: xen, onEmbeddedFallback: () => (fellBack = true) }));
    assert.equal(e.xen, '/proc/xen exists');
    assert.equal(
      e.message,
      `cannot reach xenstored: socket ${env.XENSTORED_PATH}: ENOENT (no such file); device ${join(xen, 'dev/xen/xenbus')}: ENOENT (no such file); ` +
        'Xen is present on this host (/proc/xen exists), so colo-xl will not fall back to its embedded store',
    );
    assert.equal(fellBack, false);
    assert.equal(existsSync(journal), false);
  });

  it('a xenbus path that is not a character device is named as such', async () => {
    mkdirSync(join(xen, 'dev', 'xen'), { recursive: true });
    writeFileSync(join(xen, 'dev', 'xen', 'xenbus'), '');
    const e = await rejection(openXenstore({ env, mode: 'auto', stores: new EmbeddedStores(), hostRoot: xen }));
    assert.deepEqual(e.attempts[1], { via: 'xenbus', path: join(xen, 'dev/xen/xenbus'), code: 'ENODEV', reason: 'not a character device' });
  });

  it('a daemon that does not answer its first request within the probe time is a timeout, on Xen an error', async () => {
    const sock = join(dir, 'hung.sock');
    const server = await silentSocket(sock);
    try {
      const hung = { ...env, XENSTORED_PATH: sock };
      const e = await rejection(openXenstore({ env: hung, mode: 'auto', stores: new EmbeddedStores(), hostRoot: xen, probeTimeoutMs: 300 }));
      assert.deepEqual(e.attempts[0], { via: 'socket', path: sock, code: 'ETIMEDOUT', reason: 'no answer within 300 ms' });
      // where no Xen is present, the CLI's choice falls back, and is told where the store is
      let told: string | undefined;
      const xs = await openXenstore({ env: hung, mode: 'auto', stores: new EmbeddedStores(), hostRoot: plain, probeTimeoutMs: 300, onEmbeddedFallback: (p) => (told = p) });
      assert.equal(xs.kind, 'embedded');
      assert.equal(told, journal);
      await xs.close();
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('a socket this user may not connect to is EACCES', async () => {
    const sock = join(dir, 'root-only.sock');
    const server = await silentSocket(sock);
    chmodSync(dir, 0o755);
    chmodSync(sock, 0o600);
    try {
      let attempts: unknown;
      if (process.getuid?.() === 0) {
        // root passes every permission check: ask from a root process without the capabilities
        // that override file permissions (a checkout under /root, 0700, is not open to nobody),
        // on a socket another user owns
        chownSync(sock, 65534, 65534);
        const probe = join(dir, 'probe.mts');
        writeFileSync(
          probe,
          `import { openXenstore } from ${JSON.stringify(join(REPO, 'lib/xenstore/open.ts'))};\n` +
            `try { await openXenstore({ socketPath: ${JSON.stringify(sock)} }); } catch (e) { process.stdout.write(JSON.stringify(e.attempts)); }\n`,
        );
        chmodSync(probe, 0o644);
        const drop = ['--bounding-set=-dac_override,-dac_read_search', '--inh-caps=-dac_override,-dac_read_search'];
        const child = spawn('setpriv', [...drop, '--', process.execPath, '--import', 'tsx', probe], { cwd: REPO, env: { PATH: process.env.PATH, HOME: '/' }, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        await new Promise((r) => child.on('close', r));
        assert.ok(out, err);
        attempts = JSON.parse(out);
      } else {
        attempts = (await rejection(openXenstore({ socketPath: sock }))).attempts;
      }
      assert.deepEqual(attempts, [{ via: 'socket', path: sock, code: 'EACCES', reason: 'permission denied' }]);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  describe('the CLI', () => {
    const run = async (args: string[], extra: NodeJS.ProcessEnv): Promise<{ status: number; stderr: string }> => {
      const io = new CapturedIo();
      const status = await cliMain(args, io, { ...env, ...extra });
      return { status, stderr: io.stderr };
    };

    it('on a Xen host without a reachable daemon: status 1 and what was tried, no stack, no private store', async () => {
      const r = await run(['block-list', '1'], { COLO_XL_HOST_ROOT: xen });
      assert.equal(r.status, 1);
      assert.equal(
        r.stderr,
        `colo-xl: cannot reach xenstored: socket ${env.XENSTORED_PATH}: ENOENT (no such file); device ${join(xen, 'dev/xen/xenbus')}: ENOENT (no such file); ` +
          'Xen is present on this host (/proc/xen exists), so colo-xl will not fall back to its embedded store\n',
      );
      assert.equal(existsSync(journal), false);
      // asked for explicitly, the embedded store is used even there, without a word
      const asked = await run(['block-list', '1'], { COLO_XL_HOST_ROOT: xen, COLO_XL_XENSTORE: 'embedded' });
      assert.doesNotMatch(asked.stderr, /colo-xl: /);
      assert.equal(existsSync(journal), true);
    });

    it('without Xen: the embedded store, said once on stderr; COLO_XL_XENSTORE=embedded silences it', async () => {
      const notice = `colo-xl: no xenstored; using the embedded store at ${journal}\n`;
      const r = await run(['block-list', '1'], { COLO_XL_HOST_ROOT: plain });
      assert.ok(r.stderr.startsWith(notice), r.stderr);
      assert.equal(r.stderr.split(notice).length, 2);
      // once per run, however often the command opens the store
      const cli: CliContext = { io: new CapturedIo(), dryRun: false, verbose: 0, force: false, env: { ...env, COLO_XL_HOST_ROOT: plain } };
      for (let i = 0; i < 3; i++) await (await openCliXenstore(cli)).close();
      assert.equal((cli.io as CapturedIo).stderr, notice);
      const quiet = await run(['block-list', '1'], { COLO_XL_HOST_ROOT: plain, COLO_XL_XENSTORE: 'embedded' });
      assert.equal(quiet.stderr.includes(notice), false);
    });

    it('COLO_XL_XENSTORE=daemon never falls back; an unknown value is refused', async () => {
      const r = await run(['block-list', '1'], { COLO_XL_HOST_ROOT: plain, COLO_XL_XENSTORE: 'daemon' });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /^colo-xl: cannot reach xenstored: socket .*: ENOENT \(no such file\); device .*: ENOENT \(no such file\)\n$/);
      const bad = await run(['block-list', '1'], { COLO_XL_XENSTORE: 'sometimes' });
      assert.deepEqual(bad, { status: 1, stderr: 'colo-xl: COLO_XL_XENSTORE=sometimes: expected auto, daemon or embedded\n' });
      assert.equal(existsSync(journal), false);
    });
  });
});
