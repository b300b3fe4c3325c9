/**
 * libxl's userdata files and lock, on their own: the names (libxl_dom.c:libxl__userdata_path),
 * the stored bytes (libxl__userdata_store: the JSON and its NUL), and the lock's protocol
 * (libxl_internal.c:libxl__lock_file: flock(2), unlink before close, retry when the file locked
 * was unlinked meanwhile) checked against util-linux flock(1), which makes the same syscall.
 * userdata-xl.test.ts checks the same against real xl.
 */
import assert from 'node:assert/strict';
import { AbortedError, WaitTimeoutError } from '../../lib/errors.js';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { libxlCtx, type LibxlCtx } from '../../lib/libxl/ctx.js';
import { getDomainConfiguration, setDomainConfiguration } from '../../lib/libxl/domain.js';
import { domainMake } from '../../lib/libxl/domain-make.js';
import { ERROR_FAIL, ERROR_JSON_CONFIG_EMPTY, ERROR_LOCK_FAIL, LibxlError } from '../../lib/libxl/errors.js';
import { LockFile } from '../../lib/libxl/flock.js';
import { lockDomainUserdata } from '../../lib/libxl/userdata.js';
import { openXenstore } from '../../lib/xenstore/open.js';
import { EmbeddedStores } from '../../lib/xenstore/server/stores.js';
import { requireFile } from '../support/require-tool.js';

const UUID = '0f3c5a7e-1b2d-4c6e-8a9b-123456789abc';

describe("libxl's userdata files and lock", function () {
  this.timeout(20_000);
  let dir: string;
  let ctx: LibxlCtx;

  beforeEach(async () => {
    requireFile('/usr/bin/flock', 'util-linux');
    dir = mkdtempSync(join(tmpdir(), 'colo-xl-ud-'));
    ctx = libxlCtx(await openXenstore({ mode: 'memory', stores: new EmbeddedStores() }), { userdataDir: dir });
    await domainMake(ctx, { domid: 4, name: 'g', uuid: UUID, type: 'hvm', configJson: '{"c_info":{"name":"g"}}' });
  });
  afterEach(async () => {
    await ctx.xs.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("names the files as libxl does and stores the JSON with its NUL, mode 0600, through a 'n' file", async () => {
    assert.deepEqual(readdirSync(dir), [`userdata-d.4.${UUID}.libxl-json`]);
    await setDomainConfiguration(ctx, 4, '{"c_info":{"name":"h"}}\n');
    const path = join(dir, `userdata-d.4.${UUID}.libxl-json`);
    assert.deepEqual(readFileSync(path), Buffer.from('{"c_info":{"name":"h"}}\n\0'));
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), [`userdata-d.4.${UUID}.libxl-json`]);
    assert.deepEqual(await getDomainConfiguration(ctx, 4), { c_info: { name: 'h' } });
  });

  it('no file is no configuration (quietly); an empty file is an error, as in libxl__userdata_retrieve', async () => {
    const path = join(dir, `userdata-d.4.${UUID}.libxl-json`);
    rmSync(path);
    await assert.rejects(getDomainConfiguration(ctx, 4), (e: unknown) => e instanceof LibxlError && e.rc === ERROR_JSON_CONFIG_EMPTY);
    writeFileSync(path, '');
    await assert.rejects(getDomainConfiguration(ctx, 4), (e: unknown) => e instanceof LibxlError && e.rc === ERROR_FAIL && /is empty/.test(e.message));
  });

  it('the lock is an flock(2) on userdata-l.<domid>.<uuid>.domain-userdata-lock, unlinked on release', async () => {
    const path = join(dir, `userdata-l.4.${UUID}.domain-userdata-lock`);
    const lock = await lockDomainUserdata(ctx, 4);
    assert.equal(lock.path, path);
    // flock(1) -n: fails while held, by anyone using the same syscall on the same file
    assert.equal(spawnSync('flock', ['-n', path, 'true']).status, 1);
    lock.release();
    assert.equal(existsSync(path), false);
    assert.equal(spawnSync('flock', ['-n', path, 'true']).status, 0);
  });

  it('waits for a holder; when the holder unlinks the file before letting go, locks the new one', async () => {
    const path = join(dir, 'x.lock');
    // the holder does what libxl__unlock_file does: unlink, then close (here: exit)
    const holder = spawn('flock', ['-x', path, '-c', `echo locked; read line; rm -f '${path}'`], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((r) => holder.stdout.once('data', () => r()));
    const heldIno = statSync(path).ino;
    // kept open so that the unlinked inode cannot be reused for the new file
    const keep = openSync(path, 'r');
    let waitedSaid = false;
    let got: LockFile | undefined;
    const taking = LockFile.acquire(path, { onWait: () => (waitedSaid = true) }).then((l) => (got = l));
    await sleep(300);
    assert.equal(got, undefined);
    assert.equal(waitedSaid, true);
    holder.stdin.end('go\n');
    await taking;
    // not the inode the holder had (and unlinked): that one was released to nobody
    assert.notEqual(statSync(path).ino, heldIno);
    assert.equal(spawnSync('flock', ['-n', path, 'true']).status, 1);
    got!.release();
    closeSync(keep);
  });

  it('a wait can be abandoned; a domain gone meanwhile fails the lock and leaves no file', async () => {
    const path = join(dir, 'y.lock');
    const holder = spawn('flock', ['-x', path, '-c', 'echo locked; read line'], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((r) => holder.stdout.once('data', () => r()));
    const abort = new AbortController();
    const taking = LockFile.acquire(path, { signal: abort.signal });
    await sleep(100);
    abort.abort();
    await assert.rejects(taking, AbortedError);
    await assert.rejects(LockFile.acquire(path, { timeoutMs: 60 }), WaitTimeoutError);
    holder.stdin.end('go\n');
    await new Promise((r) => holder.on('close', r));

    await ctx.xs.rm('/local/domain/4');
    await assert.rejects(lockDomainUserdata(ctx, 4, { uuid: UUID }), (e: unknown) => e instanceof LibxlError && e.rc === ERROR_LOCK_FAIL);
    assert.equal(existsSync(join(dir, `userdata-l.4.${UUID}.domain-userdata-lock`)), false);
  });
});
