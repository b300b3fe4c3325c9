import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QMPClient } from '../../lib/qmp/client.js';
import { createImage, freePort, ioVerdict, pickAccel, requireQemu } from '../support/qemu.js';
import { scaled } from '../support/slowness.js';
import { cli } from '../support/cli.js';

function cfg(dir: string, name: string, port: number, target: string): string {
  const f = join(dir, `${name}.cfg`);
  writeFileSync(
    f,
    `type = "hvm"\nname = "guest"\nmemory = 64\nvnc = 0\n` +
      `disk = [ 'vdev=hda,format=qcow2,colo,colo-host=127.0.0.1,colo-port=${port},colo-export=e1,` +
      `active-disk=${join(dir, 'active.qcow2')},hidden-disk=${join(dir, 'hidden.qcow2')},target=${target}' ]\n`,
  );
  return f;
}

describe(`colo-xl colo launch: QEMUs from xl.cfg files, then replication (accel ${pickAccel()})`, function () {
  this.timeout(scaled(60_000));
  const dir = mkdtempSync(join(tmpdir(), 'colo-xl-launch-'));
  const pids: number[] = [];
  after(() => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('-N prints the argv: the builder’s drive strings, Xen-only options swapped for -machine pc', async () => {
    const target = join(dir, 'dry.qcow2');
    writeFileSync(target, ''); // libxl stats the target before building arguments
    const r = await cli(['-N', 'colo', 'launch', '--role', 'secondary', '--domid', '7', '--run-dir', dir, '--accel', 'tcg', cfg(dir, 'dry', 9000, target)]);
    assert.equal(r.status, 0, r.stderr);
    const argv = r.stdout.trim().split('\n');
    assert.equal(argv[0], '/usr/bin/qemu-system-x86_64');
    assert.ok(!argv.some((a) => a.startsWith('-xen')), 'no Xen-only options');
    assert.deepEqual(argv.slice(argv.indexOf('-machine'), argv.indexOf('-machine') + 4), ['-machine', 'pc', '-accel', 'tcg']);
    assert.ok(argv.includes(`socket,id=libxl-cmd,path=${dir}/qmp-libxl-7,server=on,wait=off`));
    assert.ok(argv.includes(`if=none,driver=qcow2,file=${target},id=e1`));
    assert.ok(argv.some((a) => a.startsWith('if=ide,index=0,id=top-colo,media=disk,cache=writeback,driver=replication,mode=secondary,')));
  });

  it('refuses a missing role', async () => {
    const r = await cli(['colo', 'launch', 'x.cfg']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^colo-xl colo launch: --role is needed\n/);
  });

  it('launches both sides from their configs; colo start/checkpoint/failover work on their libxl QMP sockets', async () => {
    requireQemu();
    const port = await freePort();
    for (const n of ['primary', 'secondary', 'active', 'hidden']) createImage(join(dir, `${n}.qcow2`));
    const sides = [
      ['secondary', 2, cfg(dir, 'sec', port, join(dir, 'secondary.qcow2'))],
      ['primary', 1, cfg(dir, 'pri', port, join(dir, 'primary.qcow2'))],
    ] as const;
    const launched: Record<string, { pid: number; qmp: string; log: string }> = {};
    for (const [role, domid, file] of sides) {
      const r = await cli(['colo', 'launch', '--json', '--role', role, '--domid', String(domid), '--run-dir', dir, file]);
      assert.equal(r.status, 0, r.stderr);
      const l = JSON.parse(r.stdout) as { pid: number; qmp: string; log: string };
      pids.push(l.pid);
      launched[role] = l;
    }
    const P = launched.primary!;
    const S = launched.secondary!;
    // the second monitor libxl gives QEMU (libxenstat) for our own pokes; qemu-io prints to the log
    const stat = async (domid: number) => await QMPClient.open(join(dir, `qmp-libxenstat-${domid}`), { retryMs: 10_000 });
    const [pq, sq] = [await stat(1), await stat(2)];
    const qemuIo = async (q: QMPClient, log: string, dev: string, cmd: string): Promise<string> => {
      const from = existsSync(log) ? readFileSync(log, 'utf8').length : 0;
      await q.hmp(`qemu-io ${dev} "${cmd}"`);
      for (let i = 0; i < 200; i++) {
        const out = readFileSync(log, 'utf8').slice(from);
        if (/^(read|wrote) \d+\/\d+ bytes/m.test(out)) return out;
        await new Promise((r) => setTimeout(r, 10));
      }
      return readFileSync(log, 'utf8').slice(from);
    };
    try {
      const common = ['-P', P.qmp, '-S', S.qmp, '-d', '768:e1', '-n', `127.0.0.1:${port}`];
      let r = await cli(['colo', 'start', ...common]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(ioVerdict(await qemuIo(pq, P.log, 'e1', 'write -P 0x3c 0 64k')), 'ok');
      assert.equal(ioVerdict(await qemuIo(sq, S.log, 'top-colo', 'read -P 0x3c 0 64k')), 'MISMATCH');
      r = await cli(['colo', 'checkpoint', ...common]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(ioVerdict(await qemuIo(sq, S.log, 'top-colo', 'read -P 0x3c 0 64k')), 'ok');
      process.kill(P.pid, 'SIGKILL');
      r = await cli(['colo', 'failover', '-S', S.qmp]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(ioVerdict(await qemuIo(sq, S.log, 'top-colo', 'read -P 0x3c 0 64k')), 'ok');
    } finally {
      await pq.disconnect();
      await sq.disconnect();
    }
  });
});
