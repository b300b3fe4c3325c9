/**
 * What `colo-xl block-attach` leaves in xenstore, read with Debian's real xenstore-ls, on Xen's
 * real C xenstored 4.17 and on colo-xl's embedded xenstored: the keys, values and permissions of
 * xen-libxl-spec §4.4–4.5, written in full here from the spec, not from the code.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CapturedIo } from '../../cli/io.js';
import { main as cliMain } from '../../cli/main.js';
import { diskFromXenstore } from '../../lib/libxl/disk.js';
import { libxlCtx, type LibxlCtx } from '../../lib/libxl/ctx.js';
import { domainMake } from '../../lib/libxl/domain-make.js';
import { openXenstore } from '../../lib/xenstore/open.js';
import { EmbeddedXenstored } from '../../lib/xenstore/server/embedded.js';
import { startRealXenstored } from '../support/real-xenstored.js';
import { requireFile } from '../support/require-tool.js';

interface Server {
  socket: string;
  stop(): Promise<void>;
}

const servers: Record<string, (dir: string) => Promise<Server>> = {
  'Xen 4.17 C xenstored': async () => {
    const x = await startRealXenstored();
    return { socket: x.socketPath, stop: () => x.stop() };
  },
  'colo-xl embedded xenstored': async (dir) => {
    const e = new EmbeddedXenstored();
    const socket = join(dir, 'xs.sock');
    await e.listen(socket);
    return { socket, stop: () => e.close() };
  },
};

const execFileAsync = promisify(execFile);

/**
 * `xenstore-ls -fp` lines under `path`, sorted (the servers need not list children alike).
 * Asynchronous: the embedded server answers from this very process.
 */
async function ls(socket: string, path: string): Promise<string[]> {
  requireFile('/usr/bin/xenstore-ls', 'xenstore-utils');
  const { stdout } = await execFileAsync('xenstore-ls', ['-fp', path], { env: { PATH: process.env.PATH, XENSTORED_PATH: socket }, encoding: 'utf8' });
  return stdout.trim().split('\n').sort();
}

/** The frontend, backend and /libxl directories of one disk. */
async function lsDisk(socket: string, domid: number, devid: number, kind: string): Promise<string[]> {
  const dirs = [`/local/domain/${domid}/device/vbd/${devid}`, `/local/domain/0/backend/${kind}/${domid}/${devid}`, `/libxl/${domid}/device/vbd/${devid}`];
  // xenstore-ls lists what is below a path, so ask the parent to see each directory itself too
  const parts = await Promise.all(
    dirs.map(async (d) => (await ls(socket, d.slice(0, d.lastIndexOf('/')))).filter((l) => l.startsWith(`${d} `) || l.startsWith(`${d}/`))),
  );
  return parts.flat().sort();
}

function node(path: string, value: string, perms: string): string {
  return `${path} = "${value}"   (${perms})`;
}

/** The three directories of one disk, as spec §4.4-4.5 describe them. */
function expected(o: { domid: number; devid: number; kind: string; back: [string, string][]; cdrom?: boolean }): string[] {
  const fe = `/local/domain/${o.domid}/device/vbd/${o.devid}`;
  const be = `/local/domain/0/backend/${o.kind}/${o.domid}/${o.devid}`;
  const lx = `/libxl/${o.domid}/device/vbd/${o.devid}`;
  const fperm = `n${o.domid},r0`;
  const bperm = `n0,r${o.domid}`;
  const front: [string, string][] = [['backend', be], ['backend-id', '0'], ['state', '1'], ['virtual-device', String(o.devid)], ['device-type', o.cdrom ? 'cdrom' : 'disk'], ['trusted', '1']];
  return [
    node(fe, '', fperm), ...front.map(([k, v]) => node(`${fe}/${k}`, v, fperm)),
    node(be, '', bperm), node(`${be}/frontend`, fe, bperm), ...o.back.map(([k, v]) => node(`${be}/${k}`, v, bperm)),
    node(lx, '', 'n0'), node(`${lx}/frontend`, fe, 'n0'), node(`${lx}/backend`, be, 'n0'), ...o.back.map(([k, v]) => node(`${lx}/${k}`, v, 'n0')),
  ].sort();
}

/** The backend keys every disk gets after its type-specific ones. */
function common(domid: number, vdev: string, o: { mode?: string; cdrom?: boolean; removable?: boolean; discard?: string; type: string }): [string, string][] {
  return [
    ['frontend-id', String(domid)], ['online', '1'], ['removable', o.removable ? '1' : '0'], ['bootable', '1'], ['state', '1'],
    ['dev', vdev], ['type', o.type], ['mode', o.mode ?? 'w'], ['device-type', o.cdrom ? 'cdrom' : 'disk'],
    ['discard-enable', o.discard ?? '1'], ['specification', 'xen'],
  ];
}

for (const [serverName, start] of Object.entries(servers)) {
  describe(`block-attach writes libxl's xenstore layout (${serverName})`, function () {
    this.timeout(60_000);
    let dir: string;
    let server: Server;
    let env: NodeJS.ProcessEnv;
    let ctx: LibxlCtx;
    let img: string;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'colo-xl-layout-'));
      img = join(dir, 'disk.img');
      writeFileSync(img, '');
      server = await start(dir);
      env = { PATH: process.env.PATH, XENSTORED_PATH: server.socket, COLO_XL_USERDATA_DIR: join(dir, 'userdata') };
      const xs = await openXenstore({ env, mode: 'daemon' });
      ctx = libxlCtx(xs, { userdataDir: env.COLO_XL_USERDATA_DIR! });
      await domainMake(ctx, { domid: 5, name: 'hvm-guest', uuid: '5b6d3e4a-0000-4000-8000-000000000005', type: 'hvm' });
      await domainMake(ctx, { domid: 6, name: 'pv-guest', uuid: '5b6d3e4a-0000-4000-8000-000000000006', type: 'pv' });
    });
    after(async () => {
      await ctx?.xs.close();
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    async function attach(...args: string[]): Promise<{ status: number; stderr: string }> {
      const io = new CapturedIo();
      const status = await cliMain(['block-attach', '--no-wait', ...args], io, env);
      return { status, stderr: io.stderr };
    }

    it('a raw image on hda gets the phy backend with the block script', async () => {
      assert.deepEqual(await attach('5', `vdev=hda,format=raw,target=${img}`), { status: 0, stderr: '' });
      const back: [string, string][] = [['params', img], ['script', '/etc/xen/scripts/block'], ...common(5, 'hda', { type: 'phy' })];
      assert.deepEqual(
        await lsDisk(server.socket, 5, 768, 'vbd'),
        expected({ domid: 5, devid: 768, kind: 'vbd', back }),
      );
    });

    it('a qcow2 disk on sdb gets qdisk with <fmt>:<path> params', async () => {
      assert.deepEqual(await attach('5', `vdev=sdb,format=qcow2,access=ro,target=${img}`), { status: 0, stderr: '' });
      const back: [string, string][] = [['params', `qcow2:${img}`], ...common(5, 'sdb', { type: 'qdisk', mode: 'r', discard: '0' })];
      assert.deepEqual(
        await lsDisk(server.socket, 5, 2064, 'qdisk'),
        expected({ domid: 5, devid: 2064, kind: 'qdisk', back }),
      );
    });

    it('a COLO disk writes every colo key on the qdisk backend, and reads back', async () => {
      const spec = `vdev=xvdc,format=qcow2,colo,colo-host=127.0.0.1,colo-port=9000,colo-export=e1,active-disk=/a.qcow2,hidden-disk=/h.qcow2,target=${img}`;
      assert.deepEqual(await attach('5', spec), { status: 0, stderr: '' });
      const back: [string, string][] = [
        ['params', `qcow2:${img}`], ['colo-host', '127.0.0.1'], ['colo-port', '9000'], ['colo-export', 'e1'],
        ['active-disk', '/a.qcow2'], ['hidden-disk', '/h.qcow2'], ...common(5, 'xvdc', { type: 'qdisk' }),
      ];
      assert.deepEqual(
        await lsDisk(server.socket, 5, 51744, 'qdisk'),
        expected({ domid: 5, devid: 51744, kind: 'qdisk', back }),
      );
      const disk = await diskFromXenstore(ctx, '/libxl/5/device/vbd/51744');
      assert.deepEqual(
        { pdev: disk.pdev_path, vdev: disk.vdev, backend: disk.backend, colo: disk.colo_enable, host: disk.colo_host, port: disk.colo_port, exp: disk.colo_export, a: disk.active_disk, h: disk.hidden_disk, format: disk.format },
        { pdev: img, vdev: 'xvdc', backend: 'qdisk', colo: true, host: '127.0.0.1', port: 9000, exp: 'e1', a: '/a.qcow2', h: '/h.qcow2', format: 'unknown' },
      );
    });

    it('an empty CD-ROM on an HVM guest is forced to qdisk, read-only and removable', async () => {
      assert.deepEqual(await attach('5', 'vdev=hdc,devtype=cdrom'), { status: 0, stderr: '' });
      const back: [string, string][] = [['params', 'aio:'], ...common(5, 'hdc', { type: 'qdisk', mode: 'r', cdrom: true, removable: true, discard: '0' })];
      assert.deepEqual(
        await lsDisk(server.socket, 5, 5632, 'qdisk'),
        expected({ domid: 5, devid: 5632, kind: 'qdisk', back, cdrom: true }),
      );
    });

    it('an extended xvd id, vhd and qed formats on a PV guest', async () => {
      assert.deepEqual(await attach('6', `vdev=xvdq,format=vhd,target=${img}`), { status: 0, stderr: '' });
      assert.deepEqual(await attach('6', `vdev=xvdaa,format=qed,target=${img}`), { status: 0, stderr: '' });
      assert.ok((await ls(server.socket, '/local/domain/0/backend/qdisk/6/268439552')).includes(node('/local/domain/0/backend/qdisk/6/268439552/params', `vhd:${img}`, 'n0,r6')));
      assert.ok((await ls(server.socket, '/local/domain/0/backend/qdisk/6/268442112')).includes(node('/local/domain/0/backend/qdisk/6/268442112/params', `qed:${img}`, 'n0,r6')));
    });

    {
      // IMG stands for the test image, made in before().
      const IMG = '<img>';
      const cases: [string[], string][] = [
        [['7', `vdev=xvda,target=${IMG}`], 'libxl: error: libxl_dom.c:libxl__domain_type: unable to get domain type for domid=7\nlibxl_device_disk_add failed.\n'],
        [['5', `vdev=xvdzzzzzz,target=${IMG}`], 'libxl: error: libxl_disk.c:libxl__device_from_disk: Domain 5:Invalid or unsupported virtual disk identifier xvdzzzzzz\nlibxl: error: libxl_disk.c:device_disk_add: Domain 5:Invalid or unsupported virtual disk identifier xvdzzzzzz\nlibxl_device_disk_add failed.\n'],
        [['5', `vdev=hda,target=${IMG}`], 'libxl: error: libxl_disk.c:device_disk_add: Domain 5:device already exists in xenstore\nlibxl_device_disk_add failed.\n'],
        [['5', 'vdev=xvdd,target=/no/such/file'], 'libxl: error: libxl_device.c:libxl__device_disk_set_backend: Disk vdev=xvdd failed to stat: /no/such/file: No such file or directory\nlibxl_device_disk_add failed.\n'],
        [['5', 'vdev=xvdd,format=empty,target=/x'], 'libxl: error: libxl_device.c:libxl__device_disk_set_backend: Disk vdev=xvdd is empty but not cdrom\nlibxl_device_disk_add failed.\n'],
        [['5', `vdev=xvdd,colo,backendtype=phy,target=${IMG}`], 'libxl: error: libxl_device.c:libxl__device_disk_set_backend: no suitable backend for disk xvdd\nlibxl_device_disk_add failed.\n'],
        [['5', 'vdev=xvdd'], "command line: config parsing error in disk specification: no target specified (and device not removable) in `vdev=xvdd'\n"],
        [['nosuch', 'vdev=xvdd,target=/x'], 'nosuch is an invalid domain identifier\n'],
      ];
      for (const [args, stderr] of cases) {
        it(`bad input (${args.join(' ')}) gets libxl's words, status 1, and writes nothing`, async () => {
          const before = await ls(server.socket, '/');
          assert.deepEqual(await attach(...args.map((a) => a.replace(IMG, img))), { status: 1, stderr });
          assert.deepEqual(await ls(server.socket, '/'), before);
        });
      }
    }
  });
}
