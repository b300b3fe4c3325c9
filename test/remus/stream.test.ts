/**
 * Both COLO sides' refusals, without QEMU: the checkpoint states each side expects, the
 * receiver's messages for a bad stream or a missing secondary, the primary's for a disk that is not a complete COLO qdisk (against a scripted QMP "QEMU").
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { CapturedIo } from '../../cli/io.js';
import { main } from '../../cli/main.js';
import { migrateReceiveColo } from '../../lib/colo/receive.js';
import { coloQmpNode, expectState } from '../../lib/colo/remus.js';
import { checkpointState, CHECKPOINT_NEW, CHECKPOINT_SVM_READY, ExactReader, MIGRATE_RECEIVER_BANNER, saveHeader } from '../../lib/stream/index.js';
import { deviceDiskAdd } from '../../lib/libxl/disk.js';
import { parseDiskSpec } from '../../lib/xlu/disk/parse.js';
import { libxlCtx } from '../../lib/libxl/ctx.js';
import { domainMake } from '../../lib/libxl/domain-make.js';
import { defaultStatePath, openXenstore } from '../../lib/xenstore/open.js';
import { EmbeddedStores } from '../../lib/xenstore/server/stores.js';

function readerOf(...chunks: Buffer[]): ExactReader {
  const s = new PassThrough();
  const r = new ExactReader(s);
  for (const c of chunks) s.write(c);
  s.end();
  return r;
}

// the stream's own format is test/stream's; here, what COLO makes of its checkpoint states
describe('COLO checkpoint states on the stream', () => {
  it('takes the expected state and refuses another, naming both', async () => {
    const r = readerOf(checkpointState(CHECKPOINT_SVM_READY), checkpointState(CHECKPOINT_NEW));
    await expectState(r, 'primary', CHECKPOINT_SVM_READY);
    await assert.rejects(expectState(r, 'primary', CHECKPOINT_SVM_READY), /invalid section: 0, expected: 2/);
  });
});

describe('migrate-receive --colo and remus -c refusals', function () {
  this.timeout(20_000);
  let state: string;
  let server: Server | undefined;
  // the embedded store, asked for: no daemon on the test host, and no notice in the expected stderr
  const env = (): NodeJS.ProcessEnv => ({ XDG_STATE_HOME: state, COLO_XL_XENSTORE: 'embedded' });

  beforeEach(() => {
    state = mkdtempSync(join(tmpdir(), 'colo-xl-remus-'));
    writeFileSync(join(state, 'plain.qcow2'), '');
  });
  afterEach(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
    rmSync(state, { recursive: true, force: true });
  });

  async function addDomain(domid: number, name: string, spec: string, qmp?: string): Promise<void> {
    const xs = await openXenstore({ mode: 'embedded', stores: new EmbeddedStores(), statePath: defaultStatePath(env()) });
    try {
      const ctx = libxlCtx(xs, { userdataDir: join(dirname(defaultStatePath(env())), 'userdata') });
      await domainMake(ctx, { domid, name, uuid: randomUUID(), type: 'hvm' });
      await deviceDiskAdd(ctx, domid, parseDiskSpec(spec, { source: 'test' }), { updateJson: false, wait: false });
      if (qmp) await xs.write(coloQmpNode(domid), qmp);
    } finally {
      await xs.close();
    }
  }

  async function receive(input: Buffer): Promise<{ rc: number; err: string; out: Buffer }> {
    const io = new CapturedIo();
    const inp = new PassThrough();
    const out = new PassThrough();
    const got: Buffer[] = [];
    out.on('data', (b: Buffer) => got.push(b));
    inp.end(input);
    const rc = await migrateReceiveColo({ io, env: env(), openXenstore: () => openXenstore({ env: env(), mode: 'embedded', stores: new EmbeddedStores() }), debug: false, coloProxyScript: null, userspaceColoProxy: false, input: inp, output: out });
    return { rc, err: io.stderr, out: Buffer.concat(got) };
  }

  const HEAD =
    'migration target: Ready to receive domain.\n' +
    'Loading new save file <incoming migration stream> (new xl fmt info 0x3/0x0/29)\n' +
    ' Savefile contains xl domain config in JSON format\n' +
    'Parsing config from <saved>\n';

  it('the receiver refuses a stream that is not an xl stream', async () => {
    const r = await receive(Buffer.from('hello, this is not a save file at all, really no\n'));
    assert.equal(r.out.toString(), MIGRATE_RECEIVER_BANNER);
    assert.equal(r.err, 'migration target: Ready to receive domain.\nFile has wrong magic number - corrupt or for a different tool?\nmigration target: Domain creation failed (code -6).\n');
    assert.equal(r.rc, 1);
  });

  /** What the receiver prints after the header when it refuses the domain, and its status. */
  async function assertRefused(stream: Buffer, libxlLine: string): Promise<void> {
    const r = await receive(stream);
    assert.equal(r.err, HEAD + libxlLine + 'migration target: Domain creation failed (code -3).\n');
    assert.equal(r.rc, 1);
  }
  const VM1 = saveHeader(Buffer.from('{"c_info":{"name":"vm1"}}'));

  it('the receiver needs <name>--incoming', async () => {
    await assertRefused(
      VM1,
      'libxl: error: colo-xl:migrate-receive: no domain "vm1--incoming" on this host: colo-xl cannot create one without Xen; start the secondary QEMU first and record it (see colo-xl(1), migrate-receive)\n',
    );
  });

  it('the receiver needs every disk a complete COLO qdisk', async () => {
    await addDomain(7, 'vm1--incoming', `vdev=hda,format=qcow2,target=${join(state, 'plain.qcow2')}`);
    await assertRefused(VM1, 'libxl: error: libxl_checkpoint_device.c:device_setup_iterate: Domain 7:device not handled by checkpoint (device=vbd:0/768)\n');
  });

  it('remus -c: a name that is no domain, and a disk that is not a COLO qdisk', async () => {
    let io = new CapturedIo();
    assert.equal(await main(['remus', '-c', 'nosuch', 'h'], io, env()), 1);
    assert.equal(io.stderr, 'nosuch is an invalid domain identifier (rc=-6)\n');

    // a QEMU that answers every command
    const sock = join(state, 'fake.qmp');
    server = createServer((c) => {
      c.write('{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""}, "capabilities": []}}\r\n');
      let buf = '';
      c.on('data', (b) => {
        buf += b.toString();
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          const m = JSON.parse(buf.slice(0, i)) as { id?: unknown };
          buf = buf.slice(i + 1);
          c.write(JSON.stringify({ return: {}, id: m.id }) + '\r\n');
        }
      });
      c.on('error', () => undefined);
    });
    await new Promise<void>((r) => server!.listen(sock, r));
    await addDomain(1, 'vm', `vdev=hda,format=qcow2,target=${join(state, 'plain.qcow2')}`, sock);
    io = new CapturedIo();
    const receiver = `printf '${MIGRATE_RECEIVER_BANNER.replace('\n', '\\n')}'; cat >/dev/null`;
    const rc = await main(['remus', '-c', '-u', '-s', '', 'vm', receiver], io, env());
    assert.match(io.stderr, /^Saving to migration stream new xl format \(info 0x3\/0x0\/\d+\)\n/);
    assert.ok(
      io.stderr.endsWith(
        'libxl: error: libxl_colo_save.c:colo_setup_checkpoint_devices_done: Domain 1:COLO: failed to setup device for guest: device not handled by checkpoint (device=vbd:0/768)\n' +
          'COLO: Backup failed? resuming domain at primary.\n',
      ),
      io.stderr,
    );
    assert.equal(rc, 1);
  });
});
