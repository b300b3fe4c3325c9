import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../support/fake-dir.js';
import { cli as runColoXl } from '../support/cli.js';
import { domainConfigToJson } from '../../lib/libxl/json.js';
import { parseConfigData } from '../../lib/xl/parse.js';
import { domainCreateNew, domainCreateRestore, type CheckpointedStream } from '../../lib/libxl/create.js';
import type { StatFn } from '../../lib/libxl/ctx.js';
import { fakeStats } from '../support/fake-stat.js';

const stat: StatFn = () => fakeStats('file');
const UUID = 'uuid="12345678-1234-1234-1234-123456789abc"';
const COLO_DISK = "'vdev=hda,format=qcow2,colo,colo-host=10.0.0.2,colo-port=9000,colo-export=e1,active-disk=/a.qcow2,hidden-disk=/h.qcow2,target=/p.qcow2'";

function config(extra: string) {
  return parseConfigData('t.cfg', `name="vm"\ntype="hvm"\n${UUID}\n${extra}\n`, { err: (t) => assert.fail(t) });
}

describe('libxl__build_device_model_args_new (HVM, qemu-xen)', () => {
  it('builds the whole 4.17 argument list for a small guest', () => {
    const c = domainCreateNew(config(`memory=512\nvcpus=2\nmaxvcpus=4\nserial="pty"\nstdvga=1\nboot="dc"\ndisk=[${COLO_DISK}]`), { domid: 5, stat });
    assert.deepEqual(c.dm.args, [
      '/usr/libexec/xen-qemu-system-i386', '-xen-domid', '5', '-no-shutdown',
      '-chardev', 'socket,id=libxl-cmd,path=/var/run/xen/qmp-libxl-5,server=on,wait=off',
      '-mon', 'chardev=libxl-cmd,mode=control',
      '-chardev', 'socket,id=libxenstat-cmd,path=/var/run/xen/qmp-libxenstat-5,server=on,wait=off',
      '-mon', 'chardev=libxenstat-cmd,mode=control',
      '-nodefaults', '-no-user-config', '-name', 'vm',
      '-vnc', '127.0.0.1:0,to=99', '-display', 'none',
      '-serial', 'pty', '-device', 'VGA,vgamem_mb=16', '-boot', 'order=dc', '-smp', '2,maxcpus=4', '-net', 'none',
      '-machine', 'xenfv,suppress-vmdesc=on', '-m', '496',
      '-drive', 'if=ide,index=0,media=disk,cache=writeback,driver=quorum,id=e1,children.0.file.filename=/p.qcow2,children.0.driver=qcow2,read-pattern=fifo,vote-threshold=1',
    ]);
    assert.deepEqual(c.dm.env, [['XEN_QEMU_CONSOLE_LIMIT', '1048576'], ['XEN_DOMAIN_ID', '5']]);
  });

  it('applies libxl defaults and display options: 32 MiB, cirrus 8 MiB, vnc off, sdl, nographic, listen:display', () => {
    const dflt = domainCreateNew(config(''), { domid: 1, stat }).dm.args;
    assert.deepEqual(dflt.slice(dflt.indexOf('-vnc')), [
      '-vnc', '127.0.0.1:0,to=99', '-display', 'none', '-device', 'cirrus-vga,vgamem_mb=8', '-boot', 'order=cda', '-net', 'none',
      '-machine', 'xenfv,suppress-vmdesc=on', '-m', '24',
    ]);
    const a = domainCreateNew(config('vnc=0\nsdl=1\nnographic=1\nvga="none"\nmemory=64'), { domid: 1, stat, monitorFd: 9 }).dm.args;
    assert.deepEqual(a.slice(4, 7), ['-chardev', 'socket,id=libxl-cmd,fd=9,server=on,wait=off', '-S']);
    assert.ok(a.join(' ').includes('-vnc none -display none -sdl -boot order=cda'));
    const v = domainCreateNew(config('vnclisten="0.0.0.0"\nvncdisplay=3\nvncunused=0\nvncpasswd="x"'), { domid: 1, stat }).dm.args;
    assert.equal(v[v.indexOf('-vnc') + 1], '0.0.0.0:3,password=on');
    const z = domainCreateNew(config('vcpus=0\nmaxvcpus=2'), { domid: 1, stat }).dm.args;
    assert.equal(z[z.indexOf('-smp') + 1], '0,maxcpus=2', 'an allocated but empty avail_vcpus counts 0');
    const r = domainCreateRestore(config(''), { checkpointed_stream: 'colo' }, { domid: 1, stat, savedStateFd: 12 }).dm.args;
    assert.deepEqual(r.slice(r.indexOf('-incoming'), r.indexOf('-incoming') + 3), ['-incoming', 'fd:12', '-machine']);
  });

  it('refuses what libxl refuses: too little video RAM, qemu-xen-traditional', () => {
    assert.throws(() => domainCreateNew(config('stdvga=1\nvideoram=8'), { domid: 1, stat }), { message: 'videoram must be at least 16 MB for STDVGA on QEMU_XEN' });
    assert.throws(() => domainCreateNew(config('device_model_version="qemu-xen-traditional"'), { domid: 1, stat }), /qemu-xen only/);
  });
});

describe('domainCreateNew / domainCreateRestore: colo_restore_enable (spec §5.4)', () => {
  const cases: [string, CheckpointedStream | null, boolean][] = [
    ['create_new', null, false],
    ['restore NONE', 'none', false],
    ['restore REMUS', 'remus', false],
    ['restore COLO', 'colo', true],
  ];
  for (const [label, stream, expected] of cases) {
    it(`${label}: every disk gets colo_restore_enable=${expected}, the saved config carries it`, () => {
      const d = config(`disk=[${COLO_DISK}, '/x.qcow2,qcow2,hdb,w']`);
      d.disks[0]!.colo_restore_enable = !expected; // whatever the caller said is overwritten
      const c = stream === null ? domainCreateNew(d, { domid: 1, stat }) : domainCreateRestore(d, { checkpointed_stream: stream }, { domid: 1, stat });
      assert.deepEqual(c.saved.disks.map((x) => x.colo_restore_enable), [expected, expected]);
      assert.deepEqual(c.disks.map((x) => x.colo_restore_enable), [expected, expected]);
      const json = domainConfigToJson(c.saved);
      assert.equal(json.split(`"colo_restore_enable": "${expected ? 'True' : 'False'}"`).length - 1, 2);
      assert.ok(!json.includes('"discard_enable"'), 'the saved config has no other defaults applied');
      const secondary = c.dm.args.some((a) => a.includes('driver=replication'));
      assert.equal(secondary, expected);
    });
  }
});

describe('colo-xl devmodel-args', () => {
  const scratch = scratchDir('colo-xl-dmargs-');

  it('prints one argument per line; --restore colo gives the secondary strings', async () => {
    const target = join(scratch.path, 'p.qcow2');
    writeFileSync(target, '');
    const cfg = join(scratch.path, 'vm.cfg');
    writeFileSync(cfg, `name="vm"\ntype="hvm"\n${UUID}\ndisk=['vdev=hda,format=qcow2,colo,colo-export=e1,active-disk=/a,hidden-disk=/h,target=${target}']\n`);
    const io = await runColoXl(['devmodel-args', '--domid', '4', cfg]);
    assert.equal(io.status, 0);
    const lines = io.stdout.trimEnd().split('\n');
    assert.deepEqual(lines.slice(0, 3), ['/usr/libexec/xen-qemu-system-i386', '-xen-domid', '4']);
    assert.ok(lines.at(-1)!.includes('driver=quorum'));
    const io2 = await runColoXl(['devmodel-args', '--restore', 'colo', cfg]);
    assert.equal(io2.status, 0);
    assert.ok(io2.stdout.includes(`if=none,driver=qcow2,file=${target},id=e1\n`));
    assert.equal((await runColoXl(['devmodel-args', '--restore', 'bogus', cfg])).status, 2);
    writeFileSync(cfg, `name="vm"\ntype="hvm"\n${UUID}\ndisk=['vdev=hda,format=qcow2,target=${target}2']\n`);
    const io4 = await runColoXl(['devmodel-args', cfg]);
    assert.equal(io4.status, 1);
    assert.equal(io4.stderr, `libxl: error: Disk vdev=hda failed to stat: ${target}2: No such file or directory\n`);
  });
});
