import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { migrateDomain } from '../../lib/migrate/source.js';
import { MigrateError } from '../../lib/migrate/types.js';
import { pickAccel, requireQemu, stopAllQemus } from '../support/qemu.js';
import { makeTlsDir } from '../../lib/tls/x509.js';
import { requireFile } from '../support/require-tool.js';
import { compareImages, makeDir, startPair, writeOffline, type Pair } from './harness.js';

describe(`migrate --tls-dir: x509 on the NBD mirror and the memory stream (accel ${pickAccel()})`, function () {
  this.timeout(60_000);
  const dir = makeDir('tls');
  let tls = '';
  let pair: Pair | null = null;
  before(() => {
    requireQemu();
    requireFile('/usr/bin/openssl', 'openssl');
    tls = makeTlsDir(join(dir, 'pki'), { name: 'migrate-a' });
  });
  afterEach(async () => {
    await pair?.cleanup();
    pair = null;
  });
  after(async () => {
    await stopAllQemus();
    rmSync(dir, { recursive: true, force: true });
  });

  it('two disks over TLS: byte-identical, and both channels really used the credentials', async () => {
    pair = await startPair(join(dir, 'ok'), [{ device: 'disk0', size: '32M' }, { device: 'disk1', size: '16M' }], (f, i) => writeOffline(f, `write -P 0x${i ? '3c' : 'c3'} 0 2M`), { tlsDir: tls });
    const p = pair;
    let srcParams: Promise<{ 'tls-creds'?: string }> | null = null;
    const report = await migrateDomain({
      qmp: p.source.qmp,
      peer: p.peer,
      address: '127.0.0.1',
      tlsDir: tls,
      pollMs: 20,
      onEvent: (e) => {
        if (e.type === 'step' && e.step === 'mirror-end') srcParams = p.source.qmp.execute('query-migrate-parameters');
      },
    });
    assert.ok(srcParams !== null);
    assert.equal((await srcParams)['tls-creds'], 'colo-xl-migrate-tls', 'the source sent its memory over TLS');
    const r = await p.received;
    assert.equal(r.status, 'running');
    assert.ok(report.memoryBytes > 0);
    const dest = await p.dest;
    // the destination's incoming stream was bound to the server credentials
    const params = await dest.qmp.execute<{ 'tls-creds'?: string }>('query-migrate-parameters');
    assert.equal(params['tls-creds'], 'colo-xl-migrate-tls');
    await dest.destroy();
    for (const d of ['disk0', 'disk1']) assert.equal(compareImages(join(p.srcDir, `${d}.qcow2`), join(p.dstDir, `${d}.qcow2`)), '', d);
  });

  it('a destination with another CA: the TLS handshake fails, the mirror never starts, rollback', async () => {
    const other = makeTlsDir(join(dir, 'pki-other'), { name: 'migrate-b' });
    // the destination's server certificate comes from another CA: the source cannot verify it
    pair = await startPair(join(dir, 'bad'), [{ device: 'disk0', size: '16M' }], (f) => writeOffline(f, 'write -P 0x42 0 1M'), { tlsDir: other });
    const p = pair;
    const err = await migrateDomain({ qmp: p.source.qmp, peer: p.peer, address: '127.0.0.1', tlsDir: tls }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof MigrateError, String(err));
    assert.equal(err.step, 'mirror-start');
    assert.match(err.reason, /certificate|TLS|handshake/i);
    assert.equal((await p.source.qmp.execute<{ status: string }>('query-status')).status, 'running');
    assert.equal((await p.received).outcome, 'aborted');
    assert.notEqual(readFileSync(join(tls, 'ca-cert.pem'), 'utf8'), readFileSync(join(other, 'ca-cert.pem'), 'utf8'));
  });
});
