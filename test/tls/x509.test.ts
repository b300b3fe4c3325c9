import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPair, type ColoPair } from '../../cli/lab/pair.js';
import { isTlsDir, makeTlsDir, OPENSSL, tlsCredsArg, tlsCredsObject } from '../../lib/tls/x509.js';
import { commonArgs, createImage, ioVerdict, QEMU_IO, startQemu, testQemus } from '../support/qemu.js';
import { qemuSuiteDir } from '../support/colo-pair.js';
import { requireFile } from '../support/require-tool.js';
import { scaled } from '../support/slowness.js';
import { sleep } from '../../lib/util/wait.js';


describe('TLS (tls-creds-x509) on NBD replication and the COLO migration stream, with real QEMU', function () {
  this.timeout(scaled(60_000));
  const dir = qemuSuiteDir('colo-xl-tls-');
  // the credentials directories: the real PKI, another CA's, and a client mixing the two
  let good: string, rogue: string, mixed: string;
  let pair: ColoPair;

  before(async () => {
    requireFile(OPENSSL, 'openssl');
    good = makeTlsDir(join(dir, 'pki'));
    rogue = makeTlsDir(join(dir, 'rogue'), { name: 'rogue' });
    // a client that trusts the real server but shows a certificate of another CA
    mixed = join(dir, 'mixed');
    mkdirSync(mixed);
    writeFileSync(join(mixed, 'ca-cert.pem'), readFileSync(join(good, 'ca-cert.pem'), 'utf8') + readFileSync(join(rogue, 'ca-cert.pem'), 'utf8'));
    for (const f of ['client-cert.pem', 'client-key.pem']) copyFileSync(join(rogue, f), join(mixed, f));
    pair = await startPair({ qemus: testQemus, dir, name: 't', tlsDir: good, trace: true, checkpointDelayMs: 60_000 }, false);
    await pair.colo.prepareSecondary();
  });

  it('makeTlsDir lays out what tls-creds-x509 reads; the objects verify peers', () => {
    assert.equal(isTlsDir(good), true);
    const text = spawnSync(OPENSSL, ['x509', '-in', join(good, 'server-cert.pem'), '-noout', '-text'], { encoding: 'utf8' }).stdout;
    assert.match(text, /IP Address:127\.0\.0\.1/);
    assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
    assert.equal(spawnSync(OPENSSL, ['verify', '-CAfile', join(good, 'ca-cert.pem'), join(good, 'client-cert.pem')]).status, 0);
    assert.notEqual(spawnSync(OPENSSL, ['verify', '-CAfile', join(good, 'ca-cert.pem'), join(rogue, 'client-cert.pem')]).status, 0);
    assert.equal(tlsCredsArg('t0', '/d', 'server'), 'tls-creds-x509,id=t0,endpoint=server,dir=/d,verify-peer=on');
    assert.deepEqual(tlsCredsObject('t0', '/d', 'client'), { 'qom-type': 'tls-creds-x509', id: 't0', endpoint: 'client', dir: '/d', 'verify-peer': true });
  });

  const nbdRead = (credsDir: string | null): { status: number | null; out: string } => {
    const r = spawnSync(
      QEMU_IO,
      [...(credsDir ? ['--object', tlsCredsArg('c', credsDir, 'client')] : []), '-r', '-U', '--image-opts',
        `driver=nbd,host=127.0.0.1,port=${pair.nbdPort},export=parent0${credsDir ? ',tls-creds=c' : ''}`, '-c', 'read 0 4k'],
      { encoding: 'utf8', timeout: 10_000 },
    );
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  };

  it('the NBD export refuses a client without TLS and a client with a certificate of another CA', async () => {
    const plain = nbdRead(null);
    assert.notEqual(plain.status, 0);
    assert.match(plain.out, /TLS negotiation required/);
    const before = pair.S.output.length;
    const wrong = nbdRead(mixed);
    assert.notEqual(wrong.status, 0, wrong.out);
    assert.doesNotMatch(wrong.out, /read 4096\/4096/);
    // the refusal is the server's: the client trusted it, the server aborted on the client's certificate
    assert.match(wrong.out, /Cannot read from TLS channel/);
    const deadline = Date.now() + 2000;
    while (!/option negotiation failed/.test(pair.S.output.slice(before)) && Date.now() < deadline) await sleep(10);
    assert.match(pair.S.output.slice(before), /option negotiation failed: .*(Verify failed|certificate)/i);
    const ok = nbdRead(good);
    assert.equal(ok.status, 0, ok.out);
    assert.match(ok.out, /read 4096\/4096 bytes/);
  });

  it('the migration stream refuses a source without TLS and one with a wrong certificate; the secondary waits on', async () => {
    for (const [name, creds] of [['plain', null], ['wrong', mixed]] as const) {
      const R = await startQemu(`rogue-${name}`, [...commonArgs(), ...(creds ? ['-object', tlsCredsArg('rc', creds, 'client')] : []), '-drive', `if=ide,index=0,file=${createImage(join(dir, `${name}.qcow2`))},driver=qcow2`], dir);
      if (creds) await R.qmp.execute('migrate-set-parameters', { 'tls-creds': 'rc' });
      await R.qmp.execute('migrate', { uri: `tcp:127.0.0.1:${pair.migPort}` });
      let st: { status?: string } = {};
      for (let i = 0; i < 500 && st.status !== 'failed'; i++) {
        st = await R.qmp.execute<{ status?: string }>('query-migrate');
        await sleep(10);
      }
      assert.equal(st.status, 'failed', `${name} source: ${JSON.stringify(st)}`);
      await R.stop();
      assert.equal(pair.S.alive, true);
      assert.equal((await pair.S.qmp.execute<{ status: string }>('query-status')).status, 'inmigrate');
    }
  });

  it('replication works with TLS on: COLO starts and a checkpoint carries primary writes to the secondary', async () => {
    await pair.colo.start();
    assert.equal((await pair.colo.status('secondary')).mode, 'secondary');
    const params = await pair.P.qmp.execute<{ 'tls-creds'?: string }>('query-migrate-parameters');
    assert.equal(params['tls-creds'], pair.colo.opts.tlsCreds);
    assert.ok(pair.colo.opts.tlsCreds);
    assert.equal(ioVerdict(await pair.P.qemuIo('colo-disk0', 'write -P 0xab 0 64k')), 'ok');
    // the secondary holds the write once a checkpoint that began after it has completed
    await pair.colo.checkpoint({ delayMs: 60_000, timeoutMs: scaled(15_000) });
    assert.equal(ioVerdict(await pair.S.qemuIo('colo-disk0', 'read -P 0xab 0 64k')), 'ok');
  });
});
