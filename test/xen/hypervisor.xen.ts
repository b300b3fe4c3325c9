/**
 * On a real Xen 4.17 hypervisor (the rig: Xen under QEMU TCG with a Debian 12 dom0): the boot,
 * real xl creating a PV guest whose blkback disk the guest reads, and colo-xl's xenstore client
 * against dom0's C xenstored. Run by `npm run test:xen`; slow (minutes), so not part of `npm test`.
 * Every timing is printed; none is asserted.
 */
import assert from 'node:assert/strict';
import { DOM0_CHECKOUT, XenRig } from './rig.js';
import { imageForTests, say } from './report.js';
import { makeLoopDisk, removeLoopDisk, shq, waitBackendState, waitGuestConsole, waitInDom0, xlCreate, xvdDevid, guestConsole, type CreatedGuest, type LoopDisk } from './guest.js';
import { anyExists, coloXl, diskPaths, dumpDevice, realXl } from './devices.js';

describe('a real Xen 4.17 hypervisor under QEMU TCG', function () {
  let rig: XenRig | undefined;
  const theRig = (): XenRig => {
    assert.ok(rig, 'the rig did not boot');
    return rig;
  };

  before(async function () {
    this.timeout(60 * 60_000);
    const image = await imageForTests();
    rig = await XenRig.boot(image, { onMilestone: (m, s) => say(`boot +${s.toFixed(1)} s: ${m}`) });
    say(`boot to xenstored up: ${rig.milestones.get('xenstored up')?.toFixed(1)} s; dom0 answering: ${rig.milestones.get('agent')?.toFixed(1)} s`);
  });

  after(async function () {
    this.timeout(60_000);
    const unstuck = rig?.dom0.unstuck ?? [];
    say(`dom0's agent was held up ${unstuck.length} time(s)${unstuck.map((u) => `\n${u}`).join('')}`);
    await rig?.stop();
  });

  it("boots: xl info reports Xen 4.17 and dom0's xenstored answers", async function () {
    this.timeout(5 * 60_000);
    const dom0 = theRig().dom0;
    const info = await dom0.check('xl info', { timeoutSeconds: 120 });
    assert.match(info, /^xen_major\s*:\s*4$/m, info);
    assert.match(info, /^xen_minor\s*:\s*17$/m, info);
    assert.match(info, /^virt_caps\s*:.*\bpv\b/m, info);
    const name = await dom0.check('xenstore-read /local/domain/0/name');
    assert.equal(name.trim(), 'Domain-0');
    const list = await dom0.check('xl list');
    assert.match(list, /^Domain-0\s+0\s/m, list);
  });

  it('real xl create: a PV guest with a phy disk on a loop device, blkback connected, the guest reads the bytes', async function () {
    this.timeout(20 * 60_000);
    const dom0 = theRig().dom0;
    const magic = 'RIG-PHY-DISK-0001';
    const disk = await makeLoopDisk(dom0, 'phy0', magic, 64);
    const name = 'rigphy';
    try {
      const guest = await xlCreate(dom0, name, [`format=raw,vdev=xvda,access=rw,target=${disk.loop}`]);
      say(`xl create returned in ${guest.createSeconds.toFixed(1)} s (domid ${guest.domid})`);
      const backend = `/local/domain/0/backend/vbd/${guest.domid}/${xvdDevid('a')}`;
      const connected = await waitBackendState(dom0, backend, 4, 600);
      say(`backend state 4 ${(guest.createSeconds + connected).toFixed(1)} s after xl create started`);
      const seen = await waitGuestConsole(dom0, name, 'GUEST: /dev/xvda ', 600);
      say(`guest reported /dev/xvda ${(guest.createSeconds + connected + seen).toFixed(1)} s after xl create started`);
      const log = await guestConsole(dom0, name);
      const line = /GUEST: \/dev\/xvda sectors=(\d+) first32=\[([^\]]*)\]/.exec(log);
      assert.ok(line, log);
      assert.equal(Number(line[1]), 64 * 2048);
      assert.ok(line[2].startsWith(magic), `the guest read ${line[2]}`);
      const params = await dom0.check(`xenstore-read ${backend}/params ${backend}/type ${backend}/mode`);
      assert.deepEqual(params.trim().split('\n'), [disk.loop, 'phy', 'w']);
      // Not asserted, but worth seeing: user-space faults in dom0 while xl worked (TCG is not a CPU).
      const traps = (await dom0.run("dmesg | grep -a 'traps:'; ps -eo pid,args | grep -a '[x]l '")).stdout.trim();
      if (traps) say(`dom0 after xl create:\n${traps}`);
    } finally {
      await dom0.run(`xl destroy ${name}`, { timeoutSeconds: 300 });
      await removeLoopDisk(dom0, disk);
    }
  });

  it('colo-xl create (libxenlight) builds the PV guest and it boots; colo-xl list matches xl list; colo-xl destroy takes it away', async function () {
    this.timeout(25 * 60_000);
    const dom0 = theRig().dom0;
    const name = 'rigcx';
    const cfg = `/tmp/${name}.cfg`;
    const disk = await makeLoopDisk(dom0, 'cx', 'RIG-COLO-XL-CREATE', 16);
    try {
      await dom0.check(`sed 's/^name = .*/name = "${name}"/' /opt/xen-rig/guest/pv.cfg > ${cfg} && echo 'disk = ["format=raw,vdev=xvda,access=rw,target=${disk.loop}"]' >> ${cfg} && rm -f /var/log/xen/console/guest-${name}.log`);
      const t0 = performance.now();
      const created = await coloXl(dom0, ['create', cfg], 900);
      say(`colo-xl create returned ${created.status} in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${created.stderr.trim()}`);
      assert.equal(created.status, 0, created.stderr);
      assert.equal(created.stdout, '');
      assert.match(created.stderr, new RegExp(`^Parsing config from ${cfg}\n`));
      const up = await waitGuestConsole(dom0, name, 'GUEST: /dev/xvda ', 900);
      say(`the guest colo-xl created reported /dev/xvda ${up.toFixed(1)} s later`);
      assert.match(await guestConsole(dom0, name), /GUEST: \/dev\/xvda sectors=32768 first32=\[RIG-COLO-XL-CREATE/);
      // list: the same table, the columns that change by the second (state, CPU time) aside
      const steady = (t: string): string => t.split('\n').map((l) => l.replace(/\s+[-rbpscd?]{6}\s+\d+\.\d$/, '')).join('\n');
      const mine = await coloXl(dom0, ['list']);
      const theirs = await realXl(dom0, ['list']);
      say(`xl list:\n${theirs.stdout}`);
      assert.equal(mine.status, 0, mine.stderr);
      assert.equal(steady(mine.stdout), steady(theirs.stdout));
      assert.match(mine.stdout, new RegExp(`^${name}\\s+\\d+\\s+192\\s+1\\s+[-rbpscd]{6}\\s+\\d+\\.\\d$`, 'm'));
      assert.deepEqual(await coloXl(dom0, ['destroy', name]), { status: 0, stdout: '', stderr: '' });
      const after = await realXl(dom0, ['list']);
      assert.doesNotMatch(after.stdout, new RegExp(`^${name}\\s`, 'm'));
      assert.deepEqual(await coloXl(dom0, ['destroy', name]), { status: 1, stdout: '', stderr: `${name} is an invalid domain identifier (rc=-6)\n` });
    } finally {
      await dom0.run(`xl destroy ${name} 2>/dev/null; true`, { timeoutSeconds: 300 });
      await removeLoopDisk(dom0, disk);
    }
  });

  describe('colo-xl block-attach, block-list and block-detach on a running PV guest made by real xl', function () {
    const name = 'rigdev';
    let guest: CreatedGuest | undefined;
    let boot: LoopDisk | undefined;
    let extra: LoopDisk | undefined;
    const theGuest = (): CreatedGuest => {
      assert.ok(guest, 'the guest was not created');
      return guest;
    };
    const spec = (): string => `format=raw,vdev=xvdb,access=rw,target=${extra!.loop}`;
    const xvdb = (): ReturnType<typeof diskPaths> => diskPaths(theGuest().domid, xvdDevid('b'));
    let coloXlNodes: string[] = [];

    before(async function () {
      this.timeout(20 * 60_000);
      const dom0 = theRig().dom0;
      boot = await makeLoopDisk(dom0, 'dev-a', 'RIG-DEV-BOOT-A', 16);
      extra = await makeLoopDisk(dom0, 'dev-b', 'RIG-COLO-XL-ATTACHED-B', 32);
      guest = await xlCreate(dom0, name, [`format=raw,vdev=xvda,access=rw,target=${boot.loop}`]);
      await waitGuestConsole(dom0, name, 'GUEST: /dev/xvda ', 600);
      say(`guest ${name} (domid ${guest.domid}) up, xl create ${guest.createSeconds.toFixed(1)} s`);
    });

    after(async function () {
      this.timeout(10 * 60_000);
      const dom0 = theRig().dom0;
      await dom0.run(`xl destroy ${name}`, { timeoutSeconds: 300 });
      if (boot) await removeLoopDisk(dom0, boot);
      if (extra) await removeLoopDisk(dom0, extra);
    });

    it('colo-xl block-attach of a phy disk: the block script runs, blkback connects, the guest reads the bytes', async function () {
      this.timeout(15 * 60_000);
      const dom0 = theRig().dom0;
      const t0 = performance.now();
      const r = await coloXl(dom0, ['block-attach', name, spec()]);
      say(`colo-xl block-attach returned ${r.status} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      if (r.status !== 0) say(`dom0's faults:\n${(await dom0.run("dmesg | grep -a -E 'segfault|traps:|general protection' | tail -n 5")).stdout}`);
      assert.deepEqual(r, { status: 0, stdout: '', stderr: '' });
      const hotplug = await dom0.check(`xenstore-read ${xvdb().backend}/hotplug-status ${xvdb().backend}/physical-device-path`);
      assert.deepEqual(hotplug.trim().split('\n'), ['connected', extra!.loop]);
      const connected = await waitBackendState(dom0, xvdb().backend, 4, 600);
      const seen = await waitGuestConsole(dom0, name, 'GUEST: /dev/xvdb ', 600);
      say(`backend state 4 after ${connected.toFixed(1)} s more, the guest reported /dev/xvdb ${seen.toFixed(1)} s after that`);
      const line = /GUEST: \/dev\/xvdb sectors=(\d+) first32=\[([^\]]*)\]/.exec(await guestConsole(dom0, name));
      assert.ok(line);
      assert.equal(Number(line[1]), 32 * 2048);
      assert.ok(line[2]!.startsWith(extra!.magic.replace(/[^A-Za-z0-9_-]/g, '.')), `the guest read ${line[2]}`);
      coloXlNodes = await dumpDevice(dom0, Object.values(xvdb()));
    });

    it('colo-xl block-list prints what xl block-list prints', async function () {
      this.timeout(10 * 60_000);
      const dom0 = theRig().dom0;
      const mine = await coloXl(dom0, ['block-list', name]);
      const theirs = await realXl(dom0, ['block-list', name]);
      say(`block-list:\n${theirs.stdout}`);
      assert.deepEqual(mine, theirs);
      assert.match(theirs.stdout, new RegExp(`^${xvdDevid('b')}\\s+0\\s+${theGuest().domid}\\s+4\\s`, 'm'));
    });

    it('colo-xl block-detach: the guest loses the disk and every node is gone', async function () {
      this.timeout(15 * 60_000);
      const dom0 = theRig().dom0;
      const r = await coloXl(dom0, ['block-detach', name, 'xvdb']);
      assert.deepEqual(r, { status: 0, stdout: '', stderr: '' });
      assert.deepEqual(await anyExists(dom0, Object.values(xvdb())), []);
      await waitInDom0(dom0, `tail -n 1 /var/log/xen/console/guest-${name}.log | grep -q 'block devices \\[xvda \\]'`, 300, `tail -n 5 /var/log/xen/console/guest-${name}.log`);
    });

    it('real xl block-attach of the same spec writes the same nodes colo-xl wrote (xenstore-ls -fp)', async function () {
      this.timeout(15 * 60_000);
      const dom0 = theRig().dom0;
      assert.ok(coloXlNodes.length > 0, "colo-xl's attach did not run");
      assert.deepEqual(await realXl(dom0, ['block-attach', name, spec()]), { status: 0, stdout: '', stderr: '' });
      await waitBackendState(dom0, xvdb().backend, 4, 600);
      const xlNodes = await dumpDevice(dom0, Object.values(xvdb()));
      say(`nodes of xvdb: ${xlNodes.length} written by real xl, ${coloXlNodes.length} by colo-xl`);
      assert.deepEqual(coloXlNodes, xlNodes);
      assert.deepEqual(await realXl(dom0, ['block-detach', name, 'xvdb']), { status: 0, stdout: '', stderr: '' });
    });

    it('both keep the detached disk in the saved domain configuration (libxl 4.17 only adds)', async function () {
      this.timeout(5 * 60_000);
      const dom0 = theRig().dom0;
      const json = await dom0.check(`cat /var/lib/xen/userdata-d.${theGuest().domid}.*.libxl-json | tr -d '\\0'`);
      const disks = (JSON.parse(json) as { disks: { vdev: string }[] }).disks.map((d) => d.vdev);
      // xvda from create, xvdb from colo-xl's attach and again from xl's
      assert.deepEqual(disks, ['xvda', 'xvdb', 'xvdb']);
    });

    // Each bad command run by real xl, then by colo-xl on the same state: the same words (pids
    // aside), the same status, and the same nodes left behind (a failed attach keeps what it wrote).
    const badInput = (): string[][] => [
      ['block-attach', 'no-such-guest', spec()],
      ['block-attach', name, 'format=raw,vdev=xvdc,access=rw,target=/dev/no-such-disk'],
      ['block-attach', name, 'format=raw,vdev=xvda,access=rw,target=/dev/null'],
      ['block-attach', name, 'vdev=xvdc'],
      ['block-attach', name, `format=raw,vdev=xvdc,access=rw,script=/bin/false,target=${extra!.loop}`],
      ['block-detach', name, 'xvdq'],
      ['block-detach', 'no-such-guest', 'xvda'],
    ];
    for (let k = 0; k < 7; k++) {
      it(`bad input ${k + 1}: the same words, status and leftover nodes as real xl`, async function () {
        this.timeout(10 * 60_000);
        const dom0 = theRig().dom0;
        const args = badInput()[k]!;
        const domid = theGuest().domid;
        const where = [`/local/domain/0/backend/vbd/${domid}`, `/local/domain/${domid}/device`, `/libxl/${domid}/device`];
        const clean = async (): Promise<void> => {
          await dom0.run(`xl block-detach -f ${name} xvdc >/dev/null 2>&1; true`, { timeoutSeconds: 120 });
        };
        const pids = (r: { status: number; stdout: string; stderr: string }) => ({ ...r, stderr: r.stderr.replace(/ \[\d+\] /g, ' [pid] ') });
        const theirs = pids(await realXl(dom0, args));
        const theirNodes = await dumpDevice(dom0, where);
        await clean();
        const mine = pids(await coloXl(dom0, args));
        const myNodes = await dumpDevice(dom0, where);
        await clean();
        say(`${args.join(' ')}: xl ${theirs.status}, colo-xl ${mine.status}: ${theirs.stderr.trim().split('\n').at(-1)}`);
        assert.deepEqual(mine, theirs, args.join(' '));
        assert.deepEqual(myNodes, theirNodes);
      });
    }
  });

  it("colo-xl's xenstore client, run in dom0, talks to the real xenstored over the socket and over /dev/xen/xenbus", async function () {
    this.timeout(15 * 60_000);
    const dom0 = theRig().dom0;
    for (const via of ['socket', 'xenbus'] as const) {
      const t0 = performance.now();
      const out = await dom0.check(
        `cd ${DOM0_CHECKOUT} && node --import tsx test/xen/dom0/xs-probe.ts ${via}`, { timeoutSeconds: 600 });
      say(`xenstore probe over ${via}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const seen = JSON.parse(out.trim().split('\n').at(-1) ?? '') as Record<string, unknown>;
      const base = `/local/domain/0/xen-rig-probe/${via}`;
      assert.equal(seen.dom0Name, 'Domain-0');
      assert.equal(seen.domainPath, '/local/domain/0');
      assert.equal(seen.fromTx, `written over ${via}`);
      assert.deepEqual(seen.listing, ['tx', 'value', 'watched']);
      assert.equal(seen.initialWatch, `${base}/watched`);
      assert.equal(seen.firedWatch, `${base}/watched`);
      // What colo-xl wrote, as Xen's own tools read it from the daemon.
      const back = await dom0.check(`xenstore-read ${shq(`${base}/value`)} ${shq(`${base}/tx`)}`);
      assert.deepEqual(back.trim().split('\n'), [`written over ${via}`, 'in a transaction']);
    }
    await dom0.check('xenstore-rm /local/domain/0/xen-rig-probe');
  });
});
