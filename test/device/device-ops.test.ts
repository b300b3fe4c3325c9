import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CapturedIo } from '../../cli/io.js';
import { main as cliMain } from '../../cli/main.js';
import { deviceDiskList, diskFromXenstore } from '../../lib/libxl/disk.js';
import { libxlCtx, type LibxlCtx } from '../../lib/libxl/ctx.js';
import { domainMake } from '../../lib/libxl/domain-make.js';
import { LibxlError } from '../../lib/libxl/errors.js';
import { captureLibxlLines } from '../support/fake-logger.js';
import { EmbeddedXenstored } from '../../lib/xenstore/server/embedded.js';
import { HOTPLUG_SCRIPT_DIR, startFakeBackend, type FakeBackend } from '../support/fake-backend.js';

describe('disk device operations on the embedded store', function () {
  this.timeout(30_000);
  let dir: string;
  let store: EmbeddedXenstored;
  let ctx: LibxlCtx;
  let env: NodeJS.ProcessEnv;
  let img: string;
  let log: string[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'colo-xl-ops-'));
    img = join(dir, 'd.img');
    writeFileSync(img, '');
    store = new EmbeddedXenstored();
    const socket = join(dir, 'xs.sock');
    await store.listen(socket);
    env = { PATH: process.env.PATH, XENSTORED_PATH: socket, COLO_XL_USERDATA_DIR: join(dir, 'ud'), COLO_XL_SCRIPT_DIR: HOTPLUG_SCRIPT_DIR };
    const captured = captureLibxlLines();
    log = captured.lines;
    ctx = libxlCtx(store.client(), { logger: captured.logger, userdataDir: env.COLO_XL_USERDATA_DIR! });
    await domainMake(ctx, { domid: 3, name: 'guest', uuid: '00000000-0000-4000-8000-000000000003', type: 'hvm' });
  });
  afterEach(async () => {
    await ctx.xs.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function xl(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
    return xlWith({}, ...args);
  }
  /** colo-xl with `extra` added to its environment. */
  async function xlWith(extra: NodeJS.ProcessEnv, ...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
    const io = new CapturedIo();
    const status = await cliMain(args, io, { ...env, ...extra });
    return { status, stdout: io.stdout, stderr: io.stderr };
  }

  it('block-attach waits for blkback\'s InitWait, runs the block script, and times out when the backend does not come', async () => {
    let be: FakeBackend | undefined = await startFakeBackend(ctx.xs);
    try {
      assert.deepEqual(await xl('block-attach', 'guest', `vdev=xvda,target=${img}`), { status: 0, stdout: '', stderr: '' });
      // the script ran with libxl's environment: its relative XENBUS_PATH landed under dom0's backend
      assert.equal(await ctx.xs.read('/local/domain/0/backend/vbd/3/51712/physical-device'), '7:0');
      assert.equal(await ctx.xs.read('/local/domain/0/backend/vbd/3/51712/hotplug-status'), 'connected');
      assert.equal(await ctx.xs.read('/local/domain/0/backend/vbd/3/51712/script'), `${HOTPLUG_SCRIPT_DIR}/block`);
    } finally {
      await be.stop();
      be = undefined;
    }
    const r = await xl('block-attach', '--timeout', '0.3', '3', `vdev=xvdb,target=${img}`);
    assert.deepEqual(r, {
      status: 1,
      stdout: '',
      stderr: 'libxl: error: libxl_device.c:device_backend_callback: Domain 3:unable to add device with path /local/domain/0/backend/vbd/3/51728\nlibxl_device_disk_add failed.\n',
    });
  });

  it('block-list shows xl\'s columns; block-detach closes the backend and removes every node', async () => {
    const be = await startFakeBackend(ctx.xs);
    try {
      assert.equal((await xl('block-attach', '3', `vdev=hda,target=${img}`)).status, 0);
      assert.equal((await xl('block-attach', '3', 'vdev=hdc,devtype=cdrom')).status, 0);
      await ctx.xs.write('/local/domain/3/device/vbd/768/event-channel', '17');
      await ctx.xs.write('/local/domain/3/device/vbd/768/ring-ref', '8');
      const list = await xl('block-list', '3');
      assert.equal(list.status, 0);
      assert.deepEqual(list.stdout.split('\n'), [
        'Vdev  BE  handle state evt-ch ring-ref BE-path                       ',
        '768   0   3      1     17     8        /local/domain/0/backend/vbd/3/768',
        '5632  0   3      1     -1     -1       /local/domain/0/backend/qdisk/3/5632',
        '',
      ]);
      assert.deepEqual(await xl('block-detach', '3', 'hda'), { status: 0, stdout: '', stderr: '' });
      for (const p of ['/local/domain/3/device/vbd/768', '/local/domain/0/backend/vbd/3/768', '/libxl/3/device/vbd/768']) {
        assert.equal(await ctx.xs.exists(p), false, p);
      }
      assert.deepEqual((await deviceDiskList(ctx, 3)).map((d) => d.vdev), ['hdc']);
    } finally {
      await be.stop();
    }
  });

  it('a failing block script fails the attach with libxl\'s report and the script\'s hotplug-error', async () => {
    const be = await startFakeBackend(ctx.xs);
    try {
      const r = await xlWith({ FAKE_HOTPLUG_FAIL: 'losetup failed' }, 'block-attach', '3', `vdev=xvdb,target=${img}`);
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        new RegExp(
          `^fake block: losetup failed\n` +
            `libxl: error: libxl_exec.c:libxl_report_child_exitstatus: ${HOTPLUG_SCRIPT_DIR}/block add \\[\\d+\\] exited with error status 1\n` +
            'libxl: error: libxl_device.c:device_hotplug_child_death_cb: script: losetup failed\n' +
            'libxl_device_disk_add failed.\n$',
        ),
      );
    } finally {
      await be.stop();
    }
  });

  it('block-detach without a backend: safe remove fails and keeps the disk, --force removes it', async () => {
    assert.equal((await xl('block-attach', '--no-wait', '3', `vdev=hda,target=${img}`)).status, 0);
    const safe = await xl('block-detach', '--timeout', '0.3', '3', 'hda');
    assert.deepEqual(safe, {
      status: 1,
      stdout: '',
      stderr: 'libxl: error: libxl_device.c:device_backend_callback: Domain 3:unable to remove device with path /local/domain/0/backend/vbd/3/768\nlibxl_device_disk_safe_remove failed.\n',
    });
    assert.equal(await ctx.xs.read('/local/domain/0/backend/vbd/3/768/online'), '0');
    // libxl_device_disk_destroy waits too, then removes the nodes all the same and reports the wait
    assert.deepEqual(await xl('block-detach', '--timeout', '0.3', '-f', '3', 'hda'), {
      status: 1,
      stdout: '',
      stderr: 'libxl: error: libxl_device.c:device_backend_callback: Domain 3:unable to remove device with path /local/domain/0/backend/vbd/3/768\nlibxl_device_disk_destroy failed.\n',
    });
    assert.equal(await ctx.xs.exists('/libxl/3'), true);
    assert.equal(await ctx.xs.exists('/libxl/3/device/vbd'), false);
    // libxl_vdev_to_device_disk logs why, then xl says it in its own words
    assert.deepEqual(await xl('block-detach', '3', 'hda'), {
      status: 1,
      stdout: '',
      stderr: 'libxl: error: libxl_disk.c:libxl__disk_from_xenstore: disk /libxl/3/device/vbd/768 does not exist (no backend path\nError: Device hda not connected.\n',
    });
    assert.deepEqual(await xl('block-detach', 'nope', 'hda'), { status: 1, stdout: '', stderr: 'nope is an invalid domain identifier (rc=-6)\n' });
  });

  it('the saved domain configuration gains the disk, in libxl\'s JSON form, and keeps it after a detach as libxl 4.17 does', async () => {
    // libxl's name and content: userdata-d.<domid>.<uuid>.libxl-json, the JSON with its C string's NUL
    const ud = () => JSON.parse(readFileSync(join(env.COLO_XL_USERDATA_DIR!, 'userdata-d.3.00000000-0000-4000-8000-000000000003.libxl-json'), 'utf8').replace(/\0$/, ''));
    assert.equal((await xl('block-attach', '--no-wait', '3', `vdev=xvdb,format=raw,target=${img}`)).status, 0);
    assert.deepEqual(ud().disks, [{ pdev_path: img, vdev: 'xvdb', format: 'raw', readwrite: 1 }]);
    const be = await startFakeBackend(ctx.xs);
    try {
      assert.equal((await xl('block-detach', '3', 'xvdb')).status, 0);
    } finally {
      await be.stop();
    }
    assert.deepEqual(ud().disks, [{ pdev_path: img, vdev: 'xvdb', format: 'raw', readwrite: 1 }]);
  });

  const partial = '/libxl/3/device/vbd/51744';
  const attachColo = async (): Promise<void> => {
    assert.equal((await xl('block-attach', '--no-wait', '3', `vdev=xvdc,colo,colo-host=h,colo-port=1,colo-export=e,active-disk=/a,hidden-disk=/h,target=${img}`)).status, 0);
  };
  // the COLO keys, then the ones every disk has
  for (const key of ['colo-port', 'colo-export', 'active-disk', 'hidden-disk', 'type', 'dev', 'removable', 'mode', 'device-type']) {
    it(`reading back a COLO disk without ${key} names the missing node`, async () => {
      await attachColo();
      await ctx.xs.rm(`${partial}/${key}`);
      await assert.rejects(diskFromXenstore(ctx, partial), LibxlError);
      assert.equal(log.at(-1), `libxl: error: libxl_disk.c:libxl__disk_from_xenstore: Missing xenstore node ${partial}/${key}\n`);
    });
  }

  it('reading back a disk without its backend path says it does not exist', async () => {
    await attachColo();
    const p = partial;
    await ctx.xs.rm(`${p}/backend`);
    await assert.rejects(diskFromXenstore(ctx, p), LibxlError);
    assert.equal(log.at(-1), `libxl: error: libxl_disk.c:libxl__disk_from_xenstore: disk ${p} does not exist (no backend path\n`);
  });

  it('a guest\'s connection reads its frontend and backend, cannot write the backend, cannot read another guest', async () => {
    await domainMake(ctx, { domid: 4, name: 'other', uuid: '00000000-0000-4000-8000-000000000004', type: 'hvm' });
    assert.equal((await xl('block-attach', '--no-wait', '3', `vdev=xvda,target=${img}`)).status, 0);
    assert.equal((await xl('block-attach', '--no-wait', '4', `vdev=xvda,target=${img}`)).status, 0);
    const guest = store.client({ domid: 3 });
    try {
      assert.equal(await guest.read('/local/domain/3/device/vbd/51712/backend-id'), '0');
      assert.equal(await guest.read('/local/domain/0/backend/vbd/3/51712/mode'), 'w');
      await guest.write('/local/domain/3/device/vbd/51712/state', '3');
      await assert.rejects(guest.write('/local/domain/0/backend/vbd/3/51712/mode', 'r'), { errnoName: 'EACCES' });
      await assert.rejects(guest.read('/local/domain/4/device/vbd/51712/backend-id'), { errnoName: 'EACCES' });
      await assert.rejects(guest.read('/local/domain/0/backend/vbd/4/51712/params'), { errnoName: 'EACCES' });
      await assert.rejects(guest.read('/libxl/3/device/vbd/51712/params'), { errnoName: 'EACCES' });
    } finally {
      await guest.close();
    }
  });
});
