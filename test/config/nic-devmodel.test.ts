import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfigData } from '../../lib/xl/parse.js';
import { domainCreateNew, domainCreateRestore } from '../../lib/libxl/create.js';
import { commonArgs, pickAccel, requireQemu, startQemu, stopAllQemus } from '../support/qemu.js';
import { requireFile } from '../support/require-tool.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixed = (n: number): Uint8Array => new Uint8Array([0xff, 0x22, 0x33].slice(0, n));
const DOMID = 4711;

function parse(cfg: string) {
  return parseConfigData('t.cfg', `name="t"\ntype="hvm"\nuuid="12345678-1234-1234-1234-123456789abc"\n${cfg}`, {
    err: (t) => assert.fail(`unexpected xl message: ${t}`),
  });
}

/** The device model's NIC arguments: from the first -device/-netdev/-chardev/-object after -smp up to -machine. */
function nicArgs(args: string[]): string[] {
  const start = args.indexOf('-boot') + 2;
  const end = args.indexOf('-machine');
  const a = args.slice(start, end);
  return a[0] === '-smp' ? a.slice(2) : a;
}

describe('devmodel-args: emulated NICs as libxl_dm.c builds them', function () {
  this.timeout(60_000);

  it('defaults (libxl__device_nic_setdefault): rtl8139, xenbr0, a 00:16:3e MAC; -net none only without NICs', () => {
    const a = nicArgs(domainCreateNew(parse('vif=["", "model=e1000,bridge=br1,mac=00:16:3e:aa:bb:cc,devid=3", "type=vif"]\n'), { domid: 5, randomBytes: fixed }).dm.args);
    assert.deepEqual(a, [
      '-device', 'rtl8139,id=nic0,netdev=net0,mac=00:16:3e:7f:22:33',
      '-netdev', 'type=tap,id=net0,ifname=vif5.0-emu,br=xenbr0,script=no,downscript=no',
      '-device', 'e1000,id=nic3,netdev=net3,mac=00:16:3e:aa:bb:cc',
      '-netdev', 'type=tap,id=net3,ifname=vif5.3-emu,br=br1,script=no,downscript=no',
    ]);
    assert.deepEqual(nicArgs(domainCreateNew(parse('vif=["type=vif"]\n'), { domid: 5 }).dm.args), ['-net', 'none']);
    assert.deepEqual(nicArgs(domainCreateNew(parse(''), { domid: 5 }).dm.args), ['-net', 'none']);
  });

  it('COLO: the primary listens and filters, the secondary redirects and rewrites', () => {
    const text = readFileSync(join(here, 'fixtures', 'hvm-colo-network.cfg'), 'utf8');
    // Its disk is left out: the point here is the NIC, and the disk's images do not exist.
    const d = { ...parseConfigData('colo.cfg', text, { err: () => undefined }), disks: [] };
    const primary = nicArgs(domainCreateNew(d, { domid: 7 }).dm.args);
    assert.deepEqual(primary, [
      '-device', 'rtl8139,id=nic0,netdev=net0,mac=00:16:3e:42:00:01',
      '-netdev', 'type=tap,id=net0,ifname=vif7.0-emu,br=br-guest,script=no,downscript=no',
      '-chardev', 'socket,id=mirror0,host=192.168.10.2,port=9003,server=on,wait=off',
      '-chardev', 'socket,id=compare0,host=192.168.10.1,port=9004,server=on,wait=off',
      '-chardev', 'socket,id=compare1,host=192.168.10.1,port=9005,server=on,wait=off',
      '-chardev', 'socket,id=compare_notify,host=192.168.10.1,port=9009,server=on,wait=off',
      '-chardev', 'socket,id=redirector0,host=192.168.10.1,port=9006,server=on,wait=off',
      '-chardev', 'socket,id=redirector1,host=192.168.10.1,port=9007',
      '-chardev', 'socket,id=redirector2,host=192.168.10.1,port=9008',
      '-object', 'filter-mirror,id=m1,netdev=net0,queue=tx,outdev=mirror0',
      '-object', 'filter-redirector,id=r1,netdev=net0,queue=rx,indev=redirector0',
      '-object', 'filter-redirector,id=r2,netdev=net0,queue=rx,outdev=redirector1',
      '-object', 'iothread,id=colo-compare-iothread-1',
      '-object', 'colo-compare,id=c1,primary_in=compare0,secondary_in=compare1,outdev=compare_out0,notify_dev=compare_notify,iothread=colo-compare-iothread-1',
    ]);
    const secondary = nicArgs(domainCreateRestore(d, { checkpointed_stream: 'colo' }, { domid: 7, savedStateFd: 3 }).dm.args);
    assert.deepEqual(secondary, [
      ...primary.slice(0, 4),
      '-chardev', 'socket,id=redirector0,host=192.168.10.2,port=9006',
      '-chardev', 'socket,id=redirector1,host=192.168.10.2,port=9007',
      '-object', 'filter-redirector,id=rs1,netdev=net0,queue=rx,indev=redirector0',
      '-object', 'filter-redirector,id=rs2,netdev=net0,queue=rx,outdev=redirector1',
      '-object', 'filter-rewriter,id=rs3,netdev=net0,queue=all',
      '-incoming', 'fd:3',
    ]);
  });

  it('settings the builder does not pass on are named, not dropped silently', () => {
    const w = domainCreateNew(parse('spice=1\nsoundhw="hda"\nchannel=["connection=pty,name=a"]\n'), { domid: 5 }).dm.warnings;
    assert.deepEqual(w, [
      'colo-xl does not pass channel to the device model; ignored',
      'colo-xl does not pass spice to the device model; ignored',
      'colo-xl does not pass soundhw to the device model; ignored',
    ]);
  });

  describe(`real QEMU 7.2 starts with them (accel ${pickAccel()})`, () => {
    let dir: string;
    before(() => {
      requireQemu();
      requireFile('/dev/net/tun', 'the tun driver');
      dir = mkdtempSync(join(tmpdir(), 'colo-xl-nic-'));
    });
    after(async () => {
      await stopAllQemus();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    async function start(args: string[]): Promise<{ network: string; objects: string[]; chardevs: string[] }> {
      const q = await startQemu(`nic${args.length}`, [...commonArgs(pickAccel()), ...args], dir);
      try {
        const network = await q.qmp.execute<string>('human-monitor-command', { 'command-line': 'info network' });
        const objects = (await q.qmp.execute<{ name: string }[]>('qom-list', { path: '/objects' })).map((o) => o.name);
        const chardevs = (await q.qmp.execute<{ label: string }[]>('query-chardev')).map((c) => c.label);
        return { network, objects, chardevs };
      } finally {
        await q.stop();
      }
    }

    it('a plain NIC and a COLO primary NIC (its client sockets aimed at its own listening redirector)', async () => {
      const port = (n: number): number => 20000 + ((process.pid * 7 + n) % 20000);
      const colo = [
        'model=e1000,mac=00:16:3e:42:00:02,bridge=br-none',
        `colo_sock_mirror_id=mirror0,colo_sock_mirror_ip=127.0.0.1,colo_sock_mirror_port=${port(1)}`,
        `colo_sock_compare_pri_in_id=compare0,colo_sock_compare_pri_in_ip=127.0.0.1,colo_sock_compare_pri_in_port=${port(2)}`,
        `colo_sock_compare_sec_in_id=compare1,colo_sock_compare_sec_in_ip=127.0.0.1,colo_sock_compare_sec_in_port=${port(3)}`,
        `colo_sock_compare_notify_id=notify0,colo_sock_compare_notify_ip=127.0.0.1,colo_sock_compare_notify_port=${port(4)}`,
        `colo_sock_redirector0_id=redir0,colo_sock_redirector0_ip=127.0.0.1,colo_sock_redirector0_port=${port(5)}`,
        `colo_sock_redirector1_id=redir1,colo_sock_redirector1_ip=127.0.0.1,colo_sock_redirector1_port=${port(5)}`,
        `colo_sock_redirector2_id=redir2,colo_sock_redirector2_ip=127.0.0.1,colo_sock_redirector2_port=${port(5)}`,
        'colo_filter_mirror_queue=tx,colo_filter_mirror_outdev=mirror0',
        'colo_filter_redirector0_queue=rx,colo_filter_redirector0_indev=redir1',
        'colo_filter_redirector1_queue=rx,colo_filter_redirector1_outdev=redir2',
        'colo_compare_pri_in=compare0,colo_compare_sec_in=compare1,colo_compare_out=redir0,colo_compare_notify_dev=notify0',
      ].join(',');
      const d = parse(`vif=["mac=00:16:3e:42:00:01", "${colo}"]\n`);
      const a = nicArgs(domainCreateNew(d, { domid: DOMID }).dm.args);
      const r = await start(a);
      assert.match(r.network, /nic0: index=0,type=nic,model=rtl8139,macaddr=00:16:3e:42:00:01/);
      assert.match(r.network, new RegExp(`net0: index=0,type=tap,ifname=vif${DOMID}\\.0-emu,script=no,downscript=no`));
      assert.match(r.network, /nic1: index=0,type=nic,model=e1000,macaddr=00:16:3e:42:00:02/);
      for (const o of ['m1', 'r1', 'r2', 'c1', 'colo-compare-iothread-1']) assert.ok(r.objects.includes(o), `${o} in ${r.objects}`);
      for (const c of ['mirror0', 'compare0', 'compare1', 'notify0', 'redir0', 'redir1', 'redir2']) assert.ok(r.chardevs.includes(c), c);
    });

    it("a COLO secondary NIC (its redirectors connect to the primary's sockets, here a local listener)", async () => {
      const conns: Socket[] = [];
      const server = createServer((c) => conns.push(c));
      await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
      const port = (server.address() as AddressInfo).port;
      try {
        const colo = [
          'mac=00:16:3e:42:00:03',
          `colo_sock_sec_redirector0_id=sred0,colo_sock_sec_redirector0_ip=127.0.0.1,colo_sock_sec_redirector0_port=${port}`,
          `colo_sock_sec_redirector1_id=sred1,colo_sock_sec_redirector1_ip=127.0.0.1,colo_sock_sec_redirector1_port=${port}`,
          'colo_filter_sec_redirector0_queue=rx,colo_filter_sec_redirector0_indev=sred0',
          'colo_filter_sec_redirector1_queue=rx,colo_filter_sec_redirector1_outdev=sred1',
          'colo_filter_sec_rewriter0_queue=all',
        ].join(',');
        const all = nicArgs(domainCreateRestore(parse(`vif=["${colo}"]\n`), { checkpointed_stream: 'colo' }, { domid: DOMID, savedStateFd: 3 }).dm.args);
        // Without the saved state to read: the incoming stream is not part of this check.
        const a = all.slice(0, all.indexOf('-incoming'));
        const r = await start(a);
        assert.match(r.network, /nic0: index=0,type=nic,model=rtl8139,macaddr=00:16:3e:42:00:03/);
        for (const o of ['rs1', 'rs2', 'rs3']) assert.ok(r.objects.includes(o), `${o} in ${r.objects}`);
        assert.ok(r.chardevs.includes('sred0') && r.chardevs.includes('sred1'));
      } finally {
        for (const c of conns) c.destroy();
        await new Promise((res) => server.close(res));
      }
    });
  });
});
