/**
 * `colo-xl remus` and `colo-xl migrate-receive` against Xen 4.17's real xl on every path that ends
 * in option handling (the real xl cannot go past its domain lookup here): stdout, stderr and
 * status must be the same bytes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliContext } from '../../cli/command.js';
import { runMigrateReceive } from '../../cli/commands/migrate-receive-colo.js';
import { atoi } from '../../lib/util/cstr.js';
import { CapturedIo } from '../../cli/io.js';
import { main } from '../../cli/main.js';
import { remusRune } from '../../lib/colo/remus.js';
import { startRealXl, type RealXl, type XlResult } from '../support/real-xl.js';

const REMUS_CASES: string[][] = [
  [],
  ['1'],
  ['-h'],
  ['--help'],
  ['-x', '1', 'h'],
  ['-i'],
  ['--colo', '1', 'h'],
  ['-p', '1', 'h'],
  ['-p', '-i', '5', '-u', '1', 'h'],
  ['-c', '-i', '5', '1', 'h'],
  ['-c', '-i5', '1', 'h'],
  ['-ci', '5', '1', 'h'],
  ['-c', '-i', '+7x', '1', 'h'],
  ['-c', '-b', '1', 'h'],
  ['-c', '-n', '1', 'h'],
  ['-c', '-d', '-u', '1', 'h'],
  ['-c', '-p', '-F', '-n', '1', 'h'],
  ['-i', '5', '-c', '-s', 'ssh -p 22', '1', 'h'],
];

const RECEIVE_CASES: string[][] = [
  ['x'],
  ['--colo', 'x'],
  ['-Fedrp', 'x', 'y'],
  ['-h'],
  ['--help'],
  ['-x'],
  ['--bogus'],
  ['--coloft-script'],
  ['--colo=1'],
  ['--col'],
  ['--userspace-colo-proxy=yes'],
];

describe('remus and migrate-receive options, differential against the real xl 4.17', function () {
  this.timeout(60_000);
  let xl: RealXl;
  let state: string;
  const ctx = (io: CapturedIo): CliContext => ({ io, dryRun: false, verbose: 0, force: false, env: { XDG_STATE_HOME: state, COLO_XL_XENSTORE: 'embedded' } });

  before(async () => {
    xl = await startRealXl();
    state = mkdtempSync(join(tmpdir(), 'colo-xl-remus-opts-'));
  });
  after(async () => {
    await xl?.stop();
    if (state) rmSync(state, { recursive: true, force: true });
  });

  const same = (ours: XlResult, real: XlResult, what: string): void => {
    assert.deepEqual(ours, real, `${what}: colo-xl differs from xl`);
  };

  for (const args of REMUS_CASES) {
    it(`remus ${JSON.stringify(args)}`, async () => {
      const io = new CapturedIo();
      const status = await main(['remus', ...args], io, { XDG_STATE_HOME: state, COLO_XL_XENSTORE: 'embedded' });
      same({ stdout: io.stdout, stderr: io.stderr, status }, await xl.run(['remus', ...args]), `remus ${args.join(' ')}`);
    });
  }

  it('help remus and help migrate-receive', async () => {
    for (const cmd of ['remus']) {
      const io = new CapturedIo();
      const status = await main(['help', cmd], io, {});
      same({ stdout: io.stdout, stderr: io.stderr, status }, await xl.run(['help', cmd]), `help ${cmd}`);
    }
    const io = new CapturedIo();
    const status = await runMigrateReceive(ctx(io), ['-h']);
    const real = await xl.run(['help', 'migrate-receive']);
    same({ stdout: io.stdout, stderr: io.stderr, status }, real, 'help migrate-receive');
  });

  for (const args of RECEIVE_CASES) {
    it(`migrate-receive ${JSON.stringify(args)}`, async () => {
      const io = new CapturedIo();
      const status = await runMigrateReceive(ctx(io), args);
      same({ stdout: io.stdout, stderr: io.stderr, status }, await xl.run(['migrate-receive', ...args]), `migrate-receive ${args.join(' ')}`);
    });
  }

  it("-c without -u: xl's compression warning first (the real xl stops after it here)", async () => {
    for (const args of [['-c', '1', 'h'], ['-c', '-i', '0', '-p', '1', 'h']]) {
      const real = await xl.run(['remus', ...args]);
      assert.equal(real.stderr, "COLO can't be used with memory compression. Disable memory checkpoint compression now...: No such file or directory\n");
      const io = new CapturedIo();
      const status = await main(['remus', ...args], io, { XDG_STATE_HOME: state, COLO_XL_XENSTORE: 'embedded' });
      assert.ok(io.stderr.startsWith(real.stderr), io.stderr);
      // colo-xl goes on to save_domain_core_begin: domain 1 has no stored configuration here
      assert.equal(io.stderr.slice(real.stderr.length), 'No config file stored for running domain and none supplied - cannot start remus.\n');
      assert.equal(status, 1);
    }
  });

  it('plain Remus (no -c) is refused after the checks, saying why', async () => {
    const io = new CapturedIo();
    assert.equal(await main(['remus', '1', 'h'], io, { XDG_STATE_HOME: state, COLO_XL_XENSTORE: 'embedded' }), 1);
    assert.match(io.stderr, /needs a Xen hypervisor/);
    const io2 = new CapturedIo();
    assert.equal(await runMigrateReceive(ctx(io2), ['-r']), 1);
    assert.match(io2.stderr, /Remus stream .* needs a Xen hypervisor/);
  });
});

describe("remus: xl's receiver rune and atoi", () => {
  const base = { ssh: 'ssh', host: 'backup', command: 'xl', colo: true, netbufscript: null, userspaceColoProxy: false, daemonize: true };
  it("keeps xl's placeholders and their spaces", () => {
    assert.equal(remusRune(base), 'exec ssh backup xl migrate-receive --colo    ');
    assert.equal(remusRune({ ...base, daemonize: false }), 'exec ssh backup xl migrate-receive --colo     -e');
    assert.equal(
      remusRune({ ...base, netbufscript: '/etc/xen/scripts/colo-proxy-setup', userspaceColoProxy: true }),
      'exec ssh backup xl migrate-receive --colo --coloft-script /etc/xen/scripts/colo-proxy-setup --userspace-colo-proxy ',
    );
    assert.equal(remusRune({ ...base, colo: false, daemonize: false }), 'exec ssh backup xl migrate-receive -r  -e');
    assert.equal(remusRune({ ...base, ssh: '', host: 'nc backup 9000' }), 'nc backup 9000');
  });
  it('reads -i like atoi', () => {
    assert.deepEqual(['5', ' 12ms', '-3', '+7x', 'x', '', '4294967297'].map(atoi), [5, 12, -3, 7, 0, 0, 1]);
  });
});
