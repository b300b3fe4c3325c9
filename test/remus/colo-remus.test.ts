/**
 * End to end on loopback: `colo-xl remus -c` replicates a disk of a domain whose QEMU runs here to
 * `colo-xl migrate-receive --colo`, started by xl's receiver rune through a stand-in for ssh that
 * gives the receiver its own xenstore (as a second host would have). The primary QEMU is killed;
 * the receiver fails over and its disk must hold the primary's data as of the last checkpoint.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { coloQmpNode } from '../../lib/colo/remus.js';
import { deviceDiskAdd } from '../../lib/libxl/disk.js';
import { parseDiskSpec } from '../../lib/xlu/disk/parse.js';
import { libxlCtx } from '../../lib/libxl/ctx.js';
import { domainMake } from '../../lib/libxl/domain-make.js';
import { defaultStatePath, openXenstore } from '../../lib/xenstore/open.js';
import { EmbeddedStores } from '../../lib/xenstore/server/stores.js';
import { ioVerdict, pickAccel, requireQemu, stopAllQemus } from '../support/qemu.js';
import { ColoPair, imageDifference } from '../colo/pair.js';
import { scaled } from '../support/slowness.js';

const INTERVAL_MS = scaled(2000);

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BLOCK = 64 * 1024;
const BLOCKS = 8;
const pattern = (i: number): number => 0x21 + 9 * i;

/** The COLO disk of one side, written into that side's xenstore the way block-attach does. */
async function registerDomain(state: string, domid: number, name: string, spec: string, qmp: string): Promise<void> {
  const env = { XDG_STATE_HOME: state };
  const xs = await openXenstore({ mode: 'embedded', stores: new EmbeddedStores(), statePath: defaultStatePath(env) });
  try {
    const ctx = libxlCtx(xs, { userdataDir: join(dirname(defaultStatePath(env)), 'userdata') });
    await domainMake(ctx, { domid, name, uuid: randomUUID(), type: 'hvm' });
    await deviceDiskAdd(ctx, domid, parseDiskSpec(spec, { source: 'test' }), { updateJson: false, wait: false });
    await xs.write(coloQmpNode(domid), qmp);
  } finally {
    await xs.close();
  }
}

async function readName(state: string, domid: number): Promise<string | undefined> {
  const xs = await openXenstore({ mode: 'embedded', stores: new EmbeddedStores(), statePath: defaultStatePath({ XDG_STATE_HOME: state }) });
  try {
    return await xs.tryRead(`/local/domain/${domid}/name`);
  } finally {
    await xs.close();
  }
}

interface Remus {
  proc: ChildProcess;
  stderr(): string;
  closed: Promise<number | null | 'timeout'>;
  checkpoints(): number;
  waitFor(what: string, ok: () => boolean, ms?: number): Promise<void>;
}

/**
 * Registers the pair's domains (primary vm1 = 1 here, vm1--incoming = 5 on the "other host") and
 * starts `colo-xl -v remus -c -s <loopback-ssh> vm1 backup` with checkpoints every 2 seconds (on a
 * slow host longer, by the measured factor: the reference below must fall between two of them).
 */
async function startRemus(pair: ColoPair): Promise<Remus> {
  const d = pair.disks[0]!;
  const pState = join(pair.dir, 'primary-host');
  const sState = join(pair.dir, 'secondary-host');
  const colo = `colo,colo-host=127.0.0.1,colo-port=${pair.port},colo-export=e1,active-disk=${d.activeDisk},hidden-disk=${d.hiddenDisk}`;
  await registerDomain(pState, 1, 'vm1', `vdev=hda,format=qcow2,${colo},target=${d.primaryImage}`, pair.primary.controlPath);
  await registerDomain(sState, 5, 'vm1--incoming', `vdev=hda,format=qcow2,${colo},target=${d.target}`, pair.secondary.controlPath);
  const bin = join(pair.dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'colo-xl'), `#!/bin/sh\nexec node --import tsx ${REPO}/test/support/cli-entry.ts "$@"\n`);
  // ssh <host> <words...>: the words are joined and run by the other host's shell
  writeFileSync(join(bin, 'loopback-ssh'), '#!/bin/sh\nshift\nexec env XDG_STATE_HOME="$RECEIVER_STATE" COLO_XL_XENSTORE=embedded sh -c "$*"\n');
  for (const f of ['colo-xl', 'loopback-ssh']) chmodSync(join(bin, f), 0o755);
  let stderr = '';
  const proc = spawn(join(bin, 'colo-xl'), ['-v', 'remus', '-c', '-s', join(bin, 'loopback-ssh'), 'vm1', 'backup'], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, XDG_STATE_HOME: pState, COLO_XL_XENSTORE: 'embedded', RECEIVER_STATE: sState, COLO_XL_COLO_INTERVAL_MS: String(INTERVAL_MS) },
  });
  proc.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((r) => proc.on('close', (code) => r(code)));
  const closed = Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), scaled(40_000)).unref())]);
  const checkpoints = (): number => [...stderr.matchAll(/COLO: checkpoint (\d+) done/g)].length;
  const waitFor = async (what: string, ok: () => boolean, ms = scaled(20_000)): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > deadline || proc.exitCode !== null) assert.fail(`waiting for ${what}; remus said:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { proc, stderr: () => stderr, closed, checkpoints, waitFor };
}

describe(`colo-xl remus -c → migrate-receive --colo on loopback (two real QEMUs, accel ${pickAccel()})`, function () {
  this.timeout(scaled(60_000));
  let pair: ColoPair | undefined;
  let remus: Remus | undefined;

  beforeEach(async () => {
    requireQemu();
    pair = await ColoPair.start(1);
  });
  afterEach(async () => {
    if (remus && remus.proc.exitCode === null) remus.proc.kill('SIGKILL');
    remus = undefined;
    await pair?.close();
    pair = undefined;
    await stopAllQemus();
  });

  it('replicates checkpoint by checkpoint, and the receiver fails over with the last checkpoint', async () => {
    const p = pair!;
    const d = p.disks[0]!;
    const r = (remus = await startRemus(p));
    await r.waitFor('the first checkpoint', () => r.checkpoints() >= 1);
    const stderr = r.stderr;
    assert.ok(stderr().startsWith("COLO can't be used with memory compression. Disable memory checkpoint compression now...: No such file or directory\n"));
    assert.match(stderr(), /^migration target: Ready to receive domain\.\n/m);
    assert.match(stderr(), /^Saving to migration stream new xl format \(info 0x3\/0x0\/\d+\)\n/m);
    // the sender's and the receiver's lines share one stderr (the receiver's comes back through
    // ssh) and interleave under load: check the receiver's two lines in their order
    const loading = stderr().search(/^Loading new save file <incoming migration stream> \(new xl fmt info 0x3\/0x0\/\d+\)\n/m);
    const savefile = stderr().search(/^ Savefile contains xl domain config in JSON format\n/m);
    assert.ok(loading >= 0 && savefile > loading, stderr());
    for (let i = 0; i < BLOCKS; i++) {
      assert.equal(ioVerdict(await p.primary.qemuIo('e1', `write -P ${pattern(i)} ${i * BLOCK} ${BLOCK}`)), 'ok');
    }
    // two more checkpoints: the writes are surely in the secondary's view
    const seen = r.checkpoints();
    await r.waitFor('two checkpoints after the writes', () => r.checkpoints() >= seen + 2);
    // right after a checkpoint (the next is INTERVAL_MS away): the reference, then a write it must not keep
    const reference = await p.snapshotPrimary(d, 'reference');
    assert.equal(ioVerdict(await p.primary.qemuIo('e1', `write -P 0xee 0 ${BLOCK}`)), 'ok');
    const atKill = r.checkpoints();
    await p.primary.kill('SIGKILL');

    const code = await r.closed;
    assert.equal(r.checkpoints(), atKill, 'no checkpoint may happen between the reference and the kill');
    assert.equal(code, 0, stderr());
    assert.match(stderr(), /^COLO: Primary domain has been destroyed\.\n/m);
    assert.match(stderr(), /^migration target: COLO Failover for domain 5\n/m);

    // the secondary serves the checkpointed data: block 0 holds its pattern, not the later 0xee
    for (let i = 0; i < BLOCKS; i++) {
      assert.equal(ioVerdict(await p.secondary.qemuIo('top-colo', `read -P ${pattern(i)} ${i * BLOCK} ${BLOCK}`)), 'ok', `block ${i}`);
    }
    const st = await p.secondary.qmp.execute<{ status: string }>('query-status');
    assert.equal(st.status, 'running');
    assert.equal(await readName(join(p.dir, 'secondary-host'), 5), 'vm1', 'the receiver renames vm1--incoming to vm1');
    await p.secondary.stop();
    assert.equal(imageDifference(reference, d.target), null);
  });

  it('the secondary dies: the receiver gives up, the primary tears replication down and goes on', async () => {
    const p = pair!;
    const r = (remus = await startRemus(p));
    await r.waitFor('the first checkpoint', () => r.checkpoints() >= 1);
    await p.secondary.kill('SIGKILL');
    const code = await r.closed;
    assert.equal(code, 1, r.stderr());
    assert.match(r.stderr(), /^migration target: Domain creation failed \(code -3\)\.\n/m);
    assert.ok(r.stderr().endsWith('COLO: Backup failed? resuming domain at primary.\n'), r.stderr());
    // the primary runs, without the NBD child, and its disk still takes writes
    const st = await p.primary.qmp.execute<{ status: string }>('query-status');
    assert.equal(st.status, 'running');
    const nodes = await p.primary.qmp.execute<Array<{ 'node-name': string }>>('query-named-block-nodes', { flat: true });
    assert.ok(!nodes.some((n) => n['node-name'] === 'colo_node768'), 'colo_node768 is gone');
    assert.equal(ioVerdict(await p.primary.qemuIo('e1', `write -P 0x5a 0 ${BLOCK}`)), 'ok');
    assert.equal(ioVerdict(await p.primary.qemuIo('e1', `read -P 0x5a 0 ${BLOCK}`)), 'ok');
  });
});
