import assert from 'node:assert/strict';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CapturedIo } from '../../cli/io.js';
import { main } from '../../cli/main.js';
import { parseRate } from '../../cli/commands/migrate.js';
import type { MigrateEvent } from '../../lib/migrate/types.js';
import { QMPClient } from '../../lib/qmp/client.js';
import { makeTlsDir } from '../../lib/tls/x509.js';
import { requireFile } from '../support/require-tool.js';
import { ioVerdict, pickAccel, qemuIoOffline, requireQemu, stopAllQemus } from '../support/qemu.js';
import { compareImages, makeDir, startPair, writeOffline, type Pair } from './harness.js';

const entry = join(dirname(fileURLToPath(import.meta.url)), 'receive-entry.ts');

async function cli(...argv: string[]): Promise<{ rc: number; out: string; err: string }> {
  const io = new CapturedIo();
  const rc = await main(argv, io, {});
  return { rc, out: io.stdout, err: io.stderr };
}

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Waits (up to 2 s) for a process that was told to quit to be gone. */
async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((res) => setTimeout(res, 20));
  }
}

describe(`colo-xl migrate / migrate-receive: the CLI, receiver in its own process (accel ${pickAccel()})`, function () {
  this.timeout(60_000);
  const dir = makeDir('cli');
  const pids: number[] = [];
  let pair: Pair | null = null;
  before(() => requireQemu());
  afterEach(async () => {
    await pair?.cleanup();
    pair = null;
  });
  after(async () => {
    for (const pid of pids) killPid(pid);
    await stopAllQemus();
    rmSync(dir, { recursive: true, force: true });
  });

  const receiver = (p: Pair): string => `'${process.execPath}' --import tsx '${entry}' migrate-receive --disk-dir '${p.dstDir}' --run-dir '${p.dir}'`;

  it('moves a running VM with two disks; progress lines, report, destination running from its own socket', async () => {
    pair = await startPair(join(dir, 'text'), [{ device: 'disk0', size: '32M' }, { device: 'disk1', size: '32M' }], (f, i) =>
      writeOffline(f, `write -P 0x${i ? '77' : '55'} 4M 4M`),
    );
    const p = pair;
    const r = await cli('migrate', '-s', '', '--bandwidth', '1G', p.source.controlPath, receiver(p));
    const m = /QEMU pid (\d+), QMP (\S+)/.exec(r.out);
    if (m) pids.push(Number(m[1]));
    assert.equal(r.rc, 0, r.err + r.out);
    assert.match(r.out, /^migrate: disk disk0: [\d.]+ MiB copied, 0\.0 MiB remaining \(100%\), in sync$/m);
    assert.match(r.out, /^migrate: disk disk1: .*in sync$/m);
    assert.match(r.out, /^migrate: memory: [\d.]+ MiB sent, .* pages \(completed\)$/m);
    assert.match(r.out, /^migration done in \d+ ms: disks \d+ ms \(disk0 [\d.]+ MiB, disk1 [\d.]+ MiB\), memory \d+ ms \([\d.]+ MiB\), downtime \d+ ms$/m);
    assert.match(r.err, /migrate-receive: domain running/);
    assert.ok(m, r.out);
    const dq = await QMPClient.open(m[2]!, { retryMs: 2000 });
    try {
      assert.equal((await dq.execute<{ status: string }>('query-status')).status, 'running', 'destination runs after the receiver exited');
      await dq.execute('quit');
    } finally {
      await dq.disconnect();
    }
    await waitGone(Number(m[1]));
    for (const d of ['disk0', 'disk1']) assert.equal(compareImages(join(p.srcDir, `${d}.qcow2`), join(p.dstDir, `${d}.qcow2`)), '', d);
    assert.equal(ioVerdict(qemuIoOffline(join(p.dstDir, 'disk1.qcow2'), 'read -P 0x77 4M 4M')), 'ok');
  });

  it('--json: every event as a JSON line, ending with the report', async () => {
    pair = await startPair(join(dir, 'json'), [{ device: 'disk0', size: '16M' }], (f) => writeOffline(f, 'write -P 0x99 0 1M'));
    const p = pair;
    const r = await cli('migrate', '-s', '', '--json', p.source.controlPath, receiver(p));
    const events = r.out.trim().split('\n').map((l) => JSON.parse(l) as MigrateEvent);
    const done = events.at(-1);
    if (done?.type === 'done') pids.push(done.report.destination.pid);
    assert.equal(r.rc, 0, r.err);
    assert.equal(done?.type, 'done');
    assert.ok(events.some((e) => e.type === 'disk' && e.device === 'disk0'));
    assert.ok(events.some((e) => e.type === 'memory'));
  });

  it('over "ssh" (a stand-in) with --tls-dir: the receiver command line is xl-shaped and both channels are encrypted', async () => {
    requireFile('/usr/bin/openssl', 'openssl');
    const tls = makeTlsDir(join(dir, 'pki'), { name: 'migrate-cli' });
    pair = await startPair(join(dir, 'ssh'), [{ device: 'disk0', size: '16M' }], (f) => writeOffline(f, 'write -P 0x24 2M 2M'));
    const p = pair;
    // "ssh <host> colo-xl migrate-receive …": record the words, drop host and program, run ours
    const fake = join(p.dir, 'fake-ssh');
    writeFileSync(
      fake,
      `#!/bin/sh\necho "$@" > '${p.dir}/ssh-argv'\nshift 2\n` +
        `exec '${process.execPath}' --import tsx '${entry}' "$@" --disk-dir '${p.dstDir}' --run-dir '${p.dir}'\n`,
    );
    chmodSync(fake, 0o755);
    const r = await cli('migrate', '-s', fake, '--tls-dir', tls, p.source.controlPath, 'root@127.0.0.1');
    const m = /QEMU pid (\d+), QMP (\S+)/.exec(r.out);
    if (m) pids.push(Number(m[1]));
    assert.equal(r.rc, 0, r.err + r.out);
    assert.equal(readFileSync(join(p.dir, 'ssh-argv'), 'utf8'), `root@127.0.0.1 colo-xl migrate-receive --tls-dir ${tls}\n`);
    const dq = await QMPClient.open(m![2]!, { retryMs: 2000 });
    try {
      const params = await dq.execute<{ 'tls-creds'?: string }>('query-migrate-parameters');
      assert.equal(params['tls-creds'], 'colo-xl-migrate-tls');
      await dq.execute('quit');
    } finally {
      await dq.disconnect();
    }
    await waitGone(Number(m![1]));
    assert.equal(compareImages(join(p.srcDir, 'disk0.qcow2'), join(p.dstDir, 'disk0.qcow2')), '');
  });

  it('a receiver that cannot start: fails at prepare, exit 1, the domain stays', async () => {
    pair = await startPair(join(dir, 'nope'), [{ device: 'disk0', size: '16M' }], () => undefined);
    const p = pair;
    const r = await cli('migrate', '-s', '', p.source.controlPath, 'echo no receiver here >&2; exit 3');
    assert.equal(r.rc, 1);
    assert.match(r.err, /no receiver here/);
    assert.match(r.err, /^colo-xl migrate: migration failed at step prepare: control channel closed by the other side$/m);
    assert.match(r.err, /rolled back: domain .* still runs here on its own disks/);
    assert.equal((await p.source.qmp.execute<{ status: string }>('query-status')).status, 'running');
  });

  it('usage errors: missing arguments and a bad --bandwidth exit 2; rates parse with suffixes', async () => {
    const r = await cli('migrate', 'only-one');
    assert.equal(r.rc, 2);
    assert.match(r.err, /'xl migrate' requires at least 2 arguments/);
    const b = await cli('migrate', '--bandwidth', 'fast', 'd', 'h');
    assert.equal(b.rc, 2);
    assert.match(b.err, /bad --bandwidth 'fast'/);
    assert.equal(parseRate('64M'), 64 * 1024 * 1024);
    assert.equal(parseRate('1.5K'), 1536);
    assert.equal(parseRate('0'), null);
  });
});
