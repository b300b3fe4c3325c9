import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startPair } from '../../cli/lab/pair.js';
import { freePort, ioVerdict, testQemus } from '../support/qemu.js';
import { qemuSuiteDir } from '../support/colo-pair.js';
import { scaled } from '../support/slowness.js';
import { cli } from '../support/cli.js';
import { sleep } from '../../lib/util/wait.js';


describe('colo-xl colo-ha (CLI)', function () {
  this.timeout(scaled(60_000));
  const dir = qemuSuiteDir('colo-xl-ha-cli-');

  it('usage and option errors', async () => {
    let r = await cli(['colo-ha']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^colo-xl colo-ha: one step is needed: agent, witness, start, tls-init, drill\n\nUsage: colo-xl colo-ha <agent\|witness\|start\|tls-init\|drill>/);
    r = await cli(['colo-ha', 'agent', '--role', 'boss', '-Q', '/nonexistent']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^colo-xl colo-ha agent: bad --role 'boss': primary or secondary\n/);
    r = await cli(['colo-ha', 'agent', '--bogus']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^colo-xl colo-ha agent: unknown option --bogus\n/);
    r = await cli(['colo-ha', 'start', '-P', 'x', '-S', 'y', '--tls-dir', dir]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--tls-dir .*: needs ca-cert\.pem/);
    r = await cli(['colo-ha', 'witness', '--listen', '127.0.0.1:0', '--for', '50', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const w = JSON.parse(r.stdout) as { kind: string; port: number };
    assert.equal(w.kind, 'witness');
    assert.ok(w.port > 0);
  });

  it('tls-init, start --tls-dir, then two agents: SIGKILL of the primary, the secondary agent takes over and reports', async () => {
    const pki = join(dir, 'pki');
    let r = await cli(['colo-ha', 'tls-init', pki]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(pki, 'server-key.pem')));
    const pair = await startPair({ qemus: testQemus, dir, name: 'cli' }, false);
    const common = ['-d', '0', '-n', `127.0.0.1:${pair.nbdPort}`, '-m', `127.0.0.1:${pair.migPort}`];
    r = await cli(['colo-ha', 'start', '-P', pair.P.controlPath, '-S', pair.S.controlPath, ...common, '--delay', '300', '--tls-dir', pki]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^COLO running over TLS: both sides in COLO \d+\.\d ms after migrate, first checkpoint \d+\.\d ms later\n$/);
    assert.equal((await pair.S.qmp.execute<{ 'tls-creds'?: string }>('query-migrate-parameters'))['tls-creds'], 'colo-xl-tls');
    const [pp, sp] = [await freePort(), await freePort()];
    // the heartbeat deadline (50 ms × 3) stretches with the host's slowness, as every time limit here
    const miss = ['--miss', String(scaled(3))];
    const sec = cli(['colo-ha', 'agent', '--role', 'secondary', '--node', 'hostB', '-Q', pair.S.controlPath, '--listen', `127.0.0.1:${sp}`, '--peer', `127.0.0.1:${pp}`, ...common, ...miss, '--json']);
    const pri = cli(['colo-ha', 'agent', '--role', 'primary', '--node', 'hostA', '-Q', pair.P.controlPath, '--listen', `127.0.0.1:${pp}`, '--peer', `127.0.0.1:${sp}`, ...common, ...miss]);
    // both agents open their QMP socket and hear each other first
    await sleep(scaled(500));
    await pair.P.kill('SIGKILL');
    const [rs, rp] = await Promise.all([sec, pri]);
    assert.equal(rs.status, 0, rs.stderr);
    const rep = JSON.parse(rs.stdout);
    assert.deepEqual([rep.kind, rep.outcome, rep.role, rep.node, rep.peer, rep.guard], ['report', 'failover', 'secondary', 'hostB', 'hostA', 'unguarded']);
    assert.ok(rep.failoverMs > 0 && rep.silentMs >= 150);
    assert.equal(rp.status, 0, rp.stderr);
    assert.match(rp.stdout, /^primary hostA: local-lost: the local QEMU is gone/);
    assert.equal(ioVerdict(await pair.S.qemuIo('colo-disk0', 'write -P 0x5a 0 64k')), 'ok');
  });

  it('drill --runs 1 --victim secondary prints a run line and a summary', async () => {
    const r = await cli(['colo-ha', 'drill', '--victim', 'secondary', '--runs', '1', '--dir', dir, '--miss', String(scaled(3))]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^run 1: ok: \d+ writes \(\d+ acked, 0 failed, \d+\/s\), \d+ checkpoints, kill→serving [\d.]+ ms \(detection [\d.]+ \+ failover [\d.]+\), disk: /);
    assert.match(r.stdout, /\nsecondary killed 1 times: 1 passed, 0 failed; \d+ writes, \d+ acked, 0 failed; /);
  });
});
