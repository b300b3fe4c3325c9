import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativePrimaryArgs, nativeSecondaryArgs } from '../../lib/colo/native-args.js';
import { QemuNativeColo } from '../../lib/colo/native.js';
import { QMPClient } from '../../lib/qmp/client.js';
import { commonArgs, createImage, freePort, requireQemu, startQemu, stopAllQemus } from '../support/qemu.js';
import { requireFile } from '../support/require-tool.js';
import { scaled } from '../support/slowness.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const AGENT = join(ROOT, 'ocf/colo-xl');
const OCF_TESTER = '/usr/sbin/ocf-tester';

describe('OCF resource agent ocf/colo-xl (promotable)', function () {
  this.timeout(scaled(120_000));
  const dir = mkdtempSync(join(tmpdir(), 'colo-xl-ocf-'));
  const state = join(dir, 'state');
  before(() => {
    requireQemu();
    requireFile(OCF_TESTER, 'resource-agents');
  });
  after(async () => {
    await stopAllQemus();
    // the agent's own stop ends its QEMU (by the pid file) if a failed test left it running
    spawnSync(AGENT, ['stop'], { env: { ...process.env, OCF_ROOT: '/usr/lib/ocf', OCF_RESOURCE_INSTANCE: 'colo1', OCF_RESKEY_state_dir: state, OCF_RESKEY_qemu_args: '-none' } });
    rmSync(dir, { recursive: true, force: true });
  });

  it('meta-data lists the parameters and the promotable actions', () => {
    const r = spawnSync(AGENT, ['meta-data'], { encoding: 'utf8', env: { ...process.env, OCF_ROOT: '/usr/lib/ocf' } });
    assert.equal(r.status, 0, r.stderr);
    for (const p of ['qemu_args', 'qemu_binary', 'colo_xl', 'state_dir', 'resume_cmd']) assert.match(r.stdout, new RegExp(`<parameter name="${p}"`));
    for (const a of ['start', 'stop', 'promote', 'demote', 'notify', 'monitor', 'meta-data', 'validate-all']) assert.match(r.stdout, new RegExp(`<action name="${a}"`));
    assert.match(r.stdout, /role="Promoted"/);
  });

  let wrapper = '';
  before(() => {
    // colo-xl run from the sources, for the promote step
    const entry = join(dir, 'cli.mts');
    writeFileSync(entry, `import { main } from '${join(ROOT, 'cli/main.js')}';\nimport { processIo } from '${join(ROOT, 'cli/io.js')}';\nprocess.exitCode = await main(process.argv.slice(2), processIo, process.env);\n`);
    wrapper = join(dir, 'colo-xl');
    writeFileSync(wrapper, `#!/bin/sh\nexec ${join(ROOT, 'node_modules/.bin/tsx')} ${entry} "$@"\n`);
    chmodSync(wrapper, 0o755);
  });

  it('passes ocf-tester (start, stop, monitor, promote, demote, notify) with a real QEMU', () => {
    const args = [...commonArgs().filter((a) => a !== '-S'), '-drive', `if=ide,index=0,file=${createImage(join(dir, 'd.qcow2'), '16M')},driver=qcow2`].join(' ');
    // ocf-tester runs meta-data as nobody (rc 126 "too restrictive permissions" otherwise), and a
    // checkout under /root is 0700: test the agent installed where all may read it, as Pacemaker's
    // resource.d is.
    const installed = mkdtempSync(join(tmpdir(), 'colo-xl-ocf-agent-'));
    chmodSync(installed, 0o755);
    copyFileSync(AGENT, join(installed, 'colo-xl'));
    chmodSync(join(installed, 'colo-xl'), 0o755);
    const r = spawnSync(OCF_TESTER, ['-n', 'colo1', '-o', `qemu_args=${args}`, '-o', `colo_xl=${wrapper}`, '-o', `state_dir=${state}`, join(installed, 'colo-xl')], { encoding: 'utf8', timeout: scaled(110_000) });
    rmSync(installed, { recursive: true, force: true });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /passed all tests/);
  });

  it('promote of a COLO secondary whose primary died runs the COLO failover (monitor 0 → 8)', async () => {
    const st = join(dir, 'state2');
    const mig = await freePort();
    const disk = { index: 0, image: createImage(join(dir, 's.qcow2'), '16M'), activeDisk: createImage(join(dir, 'a.qcow2'), '16M'), hiddenDisk: createImage(join(dir, 'h.qcow2'), '16M') };
    const env = {
      ...process.env,
      OCF_ROOT: '/usr/lib/ocf',
      OCF_RESOURCE_INSTANCE: 'colo2',
      OCF_RESKEY_state_dir: st,
      OCF_RESKEY_colo_xl: wrapper,
      OCF_RESKEY_qemu_args: [...commonArgs().filter((a) => a !== '-S'), ...nativeSecondaryArgs([disk], { host: '127.0.0.1', port: mig })].join(' '),
    };
    const ra = (action: string) => spawnSync(AGENT, [action], { env, encoding: 'utf8', timeout: scaled(60_000) });
    try {
      assert.equal(ra('start').status, 0);
      assert.equal(ra('monitor').status, 0);
      const P = await startQemu('ocf-p', [...commonArgs(), ...nativePrimaryArgs([{ index: 0, image: createImage(join(dir, 'p.qcow2'), '16M') }])], dir);
      const S = await QMPClient.open(join(st, 'qmp.sock'), { name: 's', retryMs: 5000 });
      const colo = new QemuNativeColo(P.qmp, S, { disks: [0], nbd: { host: '127.0.0.1', port: await freePort() }, migration: { host: '127.0.0.1', port: mig }, checkpointDelayMs: 60_000 });
      await colo.prepareSecondary();
      await colo.start();
      await S.disconnect();
      await P.kill('SIGKILL');
      const r = ra('promote');
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.equal(ra('monitor').status, 8);
      const S2 = await QMPClient.open(join(st, 'qmp.sock'), { name: 's2', retryMs: 5000 });
      const cs = await S2.execute<{ mode: string; 'last-mode': string }>('query-colo-status');
      await S2.disconnect();
      assert.deepEqual([cs.mode, cs['last-mode']], ['none', 'secondary']);
    } finally {
      assert.equal(ra('stop').status, 0);
      assert.equal(ra('monitor').status, 7);
    }
  });
});
