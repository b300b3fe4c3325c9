import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativePrimaryArgs, nativeSecondaryArgs } from '../../lib/colo/native-args.js';
import { QemuNativeColo } from '../../lib/colo/native.js';
import { QMPClient } from '../../lib/qmp/client.js';
import { Cluster, SUBNET } from '../support/cluster/cluster.js';
import { commonArgs, createImage, requireQemu } from '../support/qemu.js';
import { requireFile } from '../support/require-tool.js';
import { scaled } from '../support/slowness.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const AGENT = join(ROOT, 'ocf/colo-xl');
const [NBD_PORT, MIG_PORT] = [9999, 9998];

/** The promotable clone: per-node QEMU arguments through #uname rules, one failure bans a node. */
function resourcesXml(args: Record<string, string>, colo: string, state: Record<string, string>): string {
  const perNode = Object.keys(args)
    .map(
      (n) =>
        `<instance_attributes id="colo-${n}" score="10"><rule id="colo-${n}-r" score="INFINITY"><expression id="colo-${n}-e" attribute="#uname" operation="eq" value="${n}"/></rule>` +
        `<nvpair id="colo-${n}-a" name="qemu_args" value="${args[n]}"/><nvpair id="colo-${n}-s" name="state_dir" value="${state[n]}"/></instance_attributes>`,
    )
    .join('');
  return (
    `<clone id="colo-clone"><meta_attributes id="colo-clone-m"><nvpair id="cm1" name="promotable" value="true"/>` +
    `<nvpair id="cm2" name="promoted-max" value="1"/><nvpair id="cm3" name="clone-max" value="2"/><nvpair id="cm4" name="clone-node-max" value="1"/></meta_attributes>` +
    `<primitive id="colo" class="ocf" provider="colo-xl" type="colo-xl">${perNode}` +
    `<instance_attributes id="colo-all"><nvpair id="colo-x" name="colo_xl" value="${colo}"/></instance_attributes>` +
    `<meta_attributes id="colo-m"><nvpair id="m1" name="migration-threshold" value="1"/></meta_attributes>` +
    `<operations><op id="o1" name="monitor" interval="1s" role="Promoted" timeout="20s"/><op id="o2" name="monitor" interval="2s" role="Unpromoted" timeout="20s"/>` +
    `<op id="o3" name="start" interval="0" timeout="60s"/><op id="o4" name="promote" interval="0" timeout="60s"/><op id="o5" name="stop" interval="0" timeout="60s"/>` +
    `<op id="o6" name="demote" interval="0" timeout="60s"/></operations></primitive></clone>`
  );
}

const promoted = (st: string, n: string) => new RegExp(`Promoted: \\[ ${n} \\]`).test(st);

describe('ocf/colo-xl under a real Pacemaker+Corosync cluster (two namespaced nodes)', function () {
  this.timeout(scaled(240_000));
  const dir = mkdtempSync(join(tmpdir(), 'colo-xl-pcmk-'));
  let cluster: Cluster | null = null;
  const timings: Record<string, number> = {};
  let ops = '';

  before(() => {
    requireQemu();
    requireFile('/usr/sbin/corosync', 'corosync');
    requireFile('/usr/sbin/pacemakerd', 'pacemaker');
    requireFile('/usr/sbin/crm_mon', 'pacemaker-cli-utils');
    requireFile('/usr/sbin/cibadmin', 'pacemaker-cli-utils');
    requireFile('/usr/lib/ocf/lib/heartbeat/ocf-shellfuncs', 'resource-agents');
    requireFile('/usr/bin/nsenter', 'util-linux');
    requireFile('/usr/bin/unshare', 'util-linux');
    requireFile('/usr/sbin/ip', 'iproute2');
  });
  after(async () => {
    await cluster?.stop();
    if (timings.boot !== undefined) console.log(`      timings (ms): ${JSON.stringify(timings)}\n      n1 after the kill:\n${ops}`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('promotes one side, and on SIGKILL of its QEMU promotes the other through the COLO failover', async () => {
    // colo-xl run from the sources, for the agent's promote step
    const entry = join(dir, 'cli.mts');
    writeFileSync(entry, `import { main } from '${join(ROOT, 'cli/main.js')}';\nimport { processIo } from '${join(ROOT, 'cli/io.js')}';\nprocess.exitCode = await main(process.argv.slice(2), processIo, process.env);\n`);
    const wrapper = join(dir, 'colo-xl');
    writeFileSync(wrapper, `#!/bin/sh\nexec ${join(ROOT, 'node_modules/.bin/tsx')} ${entry} "$@"\n`);
    chmodSync(wrapper, 0o755);
    const img = (s: string) => createImage(join(dir, `${s}.qcow2`), '16M');
    const state = { n1: join(dir, 'state-n1'), n2: join(dir, 'state-n2') };
    const args = {
      n1: [...commonArgs(), ...nativePrimaryArgs([{ index: 0, image: img('p') }])].join(' '),
      n2: [
        ...commonArgs().filter((a) => a !== '-S'),
        ...nativeSecondaryArgs([{ index: 0, image: img('s'), activeDisk: img('a'), hiddenDisk: img('h') }], { host: `${SUBNET}.2`, port: MIG_PORT }),
      ].join(' '),
    };

    let t0 = Date.now();
    const c = (cluster = await Cluster.start(dir, AGENT));
    await c.waitFor('both nodes online with a DC', (st) => /Online: \[ n1 n2 \]/.test(st) && /Current DC: n[12]/.test(st), 60_000);
    timings.boot = Date.now() - t0;

    assert.match(c.must('n1', ['crm_attribute', '-t', 'crm_config', '-n', 'stonith-enabled', '-G', '-q']), /false/);
    c.must('n1', ['cibadmin', '-C', '-o', 'resources', '-X', resourcesXml(args, wrapper, state)]);
    c.must('n1', ['cibadmin', '-C', '-o', 'constraints', '-X', '<rsc_location id="prefer-n1" rsc="colo-clone" role="Promoted" node="n1" score="100"/>']);
    t0 = Date.now();
    await c.waitFor('n1 promoted, n2 unpromoted', (st) => promoted(st, 'n1') && /Unpromoted: \[ n2 \]/.test(st), 60_000);
    timings.firstPromotion = Date.now() - t0;
    assert.equal(readFileSync(join(state.n1, 'role'), 'utf8').trim(), 'promoted');
    assert.equal(readFileSync(join(state.n2, 'role'), 'utf8').trim(), 'unpromoted');

    // the promoted side is the COLO primary: enter COLO across the veth pair
    const P = await QMPClient.open(join(state.n1, 'qmp.sock'), { name: 'p', retryMs: 5000 });
    const S = await QMPClient.open(join(state.n2, 'qmp.sock'), { name: 's', retryMs: 5000 });
    const colo = new QemuNativeColo(P, S, { disks: [0], nbd: { host: `${SUBNET}.2`, port: NBD_PORT }, migration: { host: `${SUBNET}.2`, port: MIG_PORT }, checkpointDelayMs: 1000 });
    await colo.prepareSecondary();
    timings.coloEntry = await colo.start();
    const pm = await P.execute<{ mode: string }>('query-colo-status');
    const sm = await S.execute<{ mode: string }>('query-colo-status');
    assert.deepEqual([pm.mode, sm.mode], ['primary', 'secondary']);
    // one QMP client per QEMU: the agent's colo-xl needs the secondary's
    await P.disconnect();
    await S.disconnect();

    const pid = readFileSync(join(state.n1, 'qemu.pid'), 'utf8').trim();
    t0 = Date.now();
    c.must('n1', ['kill', '-KILL', pid]);
    timings.failover = await c.waitFor('n2 promoted after the primary QEMU was killed', (st) => promoted(st, 'n2'), 60_000, 'n2');
    assert.equal(readFileSync(join(state.n2, 'role'), 'utf8').trim(), 'promoted');
    assert.equal(existsSync(join(state.n1, 'qemu.pid')), false, 'n1 instance stopped');

    const S2 = await QMPClient.open(join(state.n2, 'qmp.sock'), { name: 's2', retryMs: 5000 });
    try {
      const cs = await S2.execute<{ mode: string; 'last-mode': string }>('query-colo-status');
      const rs = await S2.execute<{ status: string }>('query-status');
      assert.deepEqual([cs.mode, cs['last-mode'], rs.status], ['none', 'secondary', 'running']);
    } finally {
      await S2.disconnect();
    }
    const log = readFileSync(join(c.node('n2').dir, 'pacemaker.log'), 'utf8');
    // the agent's promote ran colo-xl's failover step (logged by the agent through execd)
    const exec = /colo promote \(call \d+, PID \d+\) exited with status 0 \(execution time ([\d.]+)(m?s)/.exec(log);
    assert.ok(exec, 'the promote on n2 is in its pacemaker.log');
    timings.promoteOp = Number(exec[1]) * (exec[2] === 's' ? 1000 : 1);
    // what the cluster did on n1 after the kill, for the report
    const n1log = readFileSync(join(c.node('n1').dir, 'pacemaker.log'), 'utf8').split('\n');
    ops = n1log
      .slice(n1log.findIndex((l) => /colo promote .*exited/.test(l)) + 1)
      .filter((l) => /log_finished|colo_monitor_1000.*(not running|status 7|rc=7)/.test(l))
      .map((l) => `        ${l.slice(7, 15)} ${l.replace(/^.*?\) \t?/, '')}`)
      .join('\n');
    assert.match(log, /colo-xl\(colo\)\[\d+\]: +INFO: colo-xl: secondary took over in [\d.]+ ms/);
  });
});
