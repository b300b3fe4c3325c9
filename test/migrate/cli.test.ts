import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRate } from '../../cli/commands/migrate.js';
import type { MigrateEvent } from '../../lib/migrate/types.js';
import { QMPClient } from '../../lib/qmp/client.js';
import { makeTlsDir } from '../../lib/tls/x509.js';
import { requireFile } from '../support/require-tool.js';
import { ioVerdict, pickAccel, qemuIoOffline } from '../support/qemu.js';
import { compareImages, migrationSuite, writeOffline, type Pair } from './harness.js';
import { cli, CLI_ENTRY } from '../support/cli.js';

const entry = CLI_ENTRY;

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
  const pids: number[] = [];
  // the receivers ran in their own processes: whatever is left of them goes with the suite
  const suite = migrationSuite('cli', () => {
    for (const pid of pids) killPid(pid);
  });
  const dir = suite.dir;

  const receiver = (p: Pair): string => `'${process.execPath}' --import tsx '${entry}' migrate-receive --disk-dir '${p.dstDir}' --run-dir '${p.dir}'`;

  it('moves a running VM with two disks; progress lines, report, destination running from its own socket', async () => {
    const p = await suite.start(join(dir, 'text'), [{ device: 'disk0', size: '32M' }, { device: 'disk1', size: '32M' }], (f, i) =>
      writeOffline(f, `write -P 0x${i ? '77' : '55'} 4M 4M`),
    );
    const r = await cli(['migrate', '-s', '', '--bandwidth', '1G', p.source.controlPath, receiver(p)]);
    const m = /QEMU pid (\d+), QMP (\S+)/.exec(r.stdout);
    if (m) pids.push(Number(m[1]));
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^migrate: disk disk0: [\d.]+ MiB copied, 0\.0 MiB remaining \(100%\), in sync$/m);
    assert.match(r.stdout, /^migrate: disk disk1: .*in sync$/m);
    assert.match(r.stdout, /^migrate: memory: [\d.]+ MiB sent, .* pages \(completed\)$/m);
    assert.match(r.stdout, /^migration done in \d+ ms: disks \d+ ms \(disk0 [\d.]+ MiB, disk1 [\d.]+ MiB\), memory \d+ ms \([\d.]+ MiB\), downtime \d+ ms$/m);
    assert.match(r.stderr, /migrate-receive: domain running/);
    assert.ok(m, r.stdout);
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
    const p = await suite.start(join(dir, 'json'), [{ device: 'disk0', size: '16M' }], (f) => writeOffline(f, 'write -P 0x99 0 1M'));
    const r = await cli(['migrate', '-s', '', '--json', p.source.controlPath, receiver(p)]);
    // the CLI's records: the event's `type` is their one discriminator, `kind`
    const events = r.stdout.trim().split('\n').map((l) => {
      const { kind, ...rest } = JSON.parse(l) as { kind: MigrateEvent['type'] };
      return { type: kind, ...rest } as MigrateEvent;
    });
    const done = events.at(-1);
    if (done?.type === 'done') pids.push(done.report.destination.pid);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(done?.type, 'done');
    assert.ok(events.some((e) => e.type === 'disk' && e.device === 'disk0'));
    assert.ok(events.some((e) => e.type === 'memory'));
  });

  it('over "ssh" (a stand-in) with --tls-dir: the receiver command line is xl-shaped and both channels are encrypted', async () => {
    requireFile('/usr/bin/openssl', 'openssl');
    const tls = makeTlsDir(join(dir, 'pki'), { name: 'migrate-cli' });
    const p = await suite.start(join(dir, 'ssh'), [{ device: 'disk0', size: '16M' }], (f) => writeOffline(f, 'write -P 0x24 2M 2M'));
    // "ssh <host> colo-xl migrate-receive …": record the words, drop host and program, run ours
    const fake = join(p.dir, 'fake-ssh');
    writeFileSync(
      fake,
      `#!/bin/sh\necho "$@" > '${p.dir}/ssh-argv'\nshift 2\n` +
        `exec '${process.execPath}' --import tsx '${entry}' "$@" --disk-dir '${p.dstDir}' --run-dir '${p.dir}'\n`,
    );
    chmodSync(fake, 0o755);
    const r = await cli(['migrate', '-s', fake, '--tls-dir', tls, p.source.controlPath, 'root@127.0.0.1']);
    const m = /QEMU pid (\d+), QMP (\S+)/.exec(r.stdout);
    if (m) pids.push(Number(m[1]));
    assert.equal(r.status, 0, r.stderr + r.stdout);
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
    const p = await suite.start(join(dir, 'nope'), [{ device: 'disk0', size: '16M' }], () => undefined);
    const r = await cli(['migrate', '-s', '', p.source.controlPath, 'echo no receiver here >&2; exit 3']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no receiver here/);
    assert.match(r.stderr, /^colo-xl migrate: migration failed at step prepare: control channel closed by the other side$/m);
    assert.match(r.stderr, /rolled back: domain .* still runs here on its own disks/);
    assert.equal((await p.source.qmp.execute<{ status: string }>('query-status')).status, 'running');
  });

  it('usage errors: missing arguments and a bad --bandwidth exit 2; rates parse with suffixes', async () => {
    const r = await cli(['migrate', 'only-one']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /'xl migrate' requires at least 2 arguments/);
    const b = await cli(['migrate', '--bandwidth', 'fast', 'd', 'h']);
    assert.equal(b.status, 2);
    assert.match(b.stderr, /bad --bandwidth 'fast'/);
    assert.equal(parseRate('64M'), 64 * 1024 * 1024);
    assert.equal(parseRate('1.5K'), 1536);
    assert.equal(parseRate('0'), null);
  });
});
