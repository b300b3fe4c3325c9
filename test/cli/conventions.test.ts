/**
 * The conventions of colo-xl's own commands (cli/options.ts): `--help` and `help CMD` exit 0,
 * a bad command line exits 2, a failure 1, and `--json` writes `{"kind": ...}` records, errors
 * included. The xl-compatible commands answer --help as xl does (exit 0) and are compared with
 * real xl elsewhere (block-attach.test.ts, test/config, test/remus).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commands } from '../../cli/commands.js';
import { cli } from '../support/cli.js';
import { FakeQmpServer } from '../qmp/fake-server.js';

/** colo-xl's own commands: one parser, one set of exit statuses, one JSON shape. */
const OWN = ['demo', 'tour', 'devmodel-args', 'colo', 'colo-ha', 'xenstored', 'domxml-from-native', 'domxml-to-native'];

const dir = mkdtempSync(join(tmpdir(), 'colo-xl-conventions-'));
const nowhere = join(dir, 'nothing-here');

/** Each line of stdout as a JSON record. */
function records(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('colo-xl command-line conventions', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('--help exits 0 with the help on stdout, for every command', () => {
    for (const { name } of commands) {
      it(`${name} --help`, async () => {
        const r = await cli([name, '--help']);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stderr, '');
        assert.match(r.stdout, /Usage/);
      });
    }
    it('colo launch --help', async () => {
      const r = await cli(['colo', 'launch', '--help']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^Usage: colo-xl \[-N\] colo launch /);
    });
    for (const step of ['agent', 'witness', 'start', 'tls-init', 'drill']) {
      it(`colo-ha ${step} --help`, async () => {
        const r = await cli(['colo-ha', step, '-h']);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /^Usage: colo-xl colo-ha /);
      });
    }
  });

  describe('help CMD exits 0 with what CMD --help prints, for every command', () => {
    for (const { name } of commands) {
      it(`help ${name}`, async () => {
        const [viaHelp, viaOption] = [await cli(['help', name]), await cli([name, '--help'])];
        assert.equal(viaHelp.status, 0, viaHelp.stderr);
        if (OWN.includes(name)) assert.equal(viaHelp.stdout, viaOption.stdout);
        else assert.match(viaHelp.stdout, /Usage/);
      });
    }
  });

  describe('a bad command line exits 2, saying why on stderr, with the help', () => {
    const cases: Array<[string[], RegExp]> = [
      [['colo'], /^colo-xl colo: one step is needed: start, checkpoint, status, failover, resume, stop\n\nUsage: colo-xl colo /],
      [['colo', 'status', '--bogus'], /^colo-xl colo status: unknown option --bogus\n/],
      [['colo', 'start', '-P', 'p.sock'], /^colo-xl colo start: --secondary is needed\n/],
      [['colo', 'checkpoint', '-P', 'p', '-S', 's', '-c', '0'], /^colo-xl colo checkpoint: bad --count '0': /],
      [['colo', 'start', '-P', 'p', '-S', 's', '-d', 'hda'], /^colo-xl colo start: bad --disk 'hda': expected <devid>:<export>, e\.g\. 768:e1\n/],
      [['colo', 'start', '-P', 'p', '-S', 's', '-d', '768:e1', '-n', 'nowhere'], /^colo-xl colo start: bad --nbd 'nowhere': expected <host>:<port>\n/],
      [['colo', 'status', '-P'], /^colo-xl colo status: option --primary needs a value\n/],
      [['colo', 'launch', 'x.cfg'], /^colo-xl colo launch: --role is needed\n/],
      [['colo', 'launch', '--role', 'boss', 'x.cfg'], /^colo-xl colo launch: bad --role 'boss': primary or secondary\n/],
      [['colo-ha'], /^colo-xl colo-ha: one step is needed: agent, witness, start, tls-init, drill\n/],
      [['colo-ha', 'sideways'], /^colo-xl colo-ha: unknown step 'sideways'\n/],
      [['colo-ha', 'agent', '--bogus'], /^colo-xl colo-ha agent: unknown option --bogus\n/],
      [['colo-ha', 'agent', '--role', 'boss', '-Q', nowhere], /^colo-xl colo-ha agent: bad --role 'boss': primary or secondary\n/],
      [['colo-ha', 'agent', '--role', 'primary', '-Q', nowhere], /^colo-xl colo-ha agent: --listen is needed\n/],
      [['colo-ha', 'witness', '--listen', 'here'], /^colo-xl colo-ha witness: bad --listen 'here': expected <host>:<port>\n/],
      [['colo-ha', 'drill', '--victim', 'both'], /^colo-xl colo-ha drill: bad --victim 'both': primary or secondary\n/],
      [['colo-ha', 'drill', '--victim', 'primary', '--runs', '0'], /^colo-xl colo-ha drill: bad --runs '0': a positive number is needed\n/],
      [['colo-ha', 'tls-init'], /^colo-xl colo-ha tls-init: tls-init needs one directory\n/],
      [['demo', 'now'], /^colo-xl demo: unexpected argument now\n/],
      [['demo', '--fast'], /^colo-xl demo: unknown option --fast\n/],
      [['tour', 'a', 'b'], /^colo-xl tour: unexpected argument b\n/],
      [['devmodel-args'], /^colo-xl devmodel-args: one config file is needed\n/],
      [['devmodel-args', '--restore', 'bogus', 'x.cfg'], /^colo-xl devmodel-args: bad --restore 'bogus': none or remus or colo\n/],
      [['devmodel-args', '--domid', 'x', 'x.cfg'], /^colo-xl devmodel-args: bad --domid 'x': /],
      [['domxml-from-native', 'xen-xl'], /^colo-xl domxml-from-native: a config type and a file are needed\n/],
      [['domxml-to-native', 'xen-xm', 'x.xml'], /^colo-xl domxml-to-native: unsupported config type xen-xm \(only xen-xl\)\n/],
      [['xenstored', '--bogus'], /^colo-xl xenstored: unknown option --bogus\n/],
      [['xenstored', '-W', 'x'], /^colo-xl xenstored: --watch-nb: invalid value "x"\n/],
    ];
    for (const [argv, err] of cases) {
      it(argv.join(' '), async () => {
        const r = await cli(argv);
        assert.equal(r.status, 2, r.stderr);
        assert.equal(r.stdout, '');
        assert.match(r.stderr, err);
        assert.match(r.stderr, /\n\nUsage: colo-xl /);
      });
    }
  });

  describe('a failure exits 1 with one line on stderr', () => {
    const cases: Array<[string[], RegExp]> = [
      [['colo', 'status', '-P', nowhere], /^colo-xl colo status: .*nothing-here/],
      [['colo-ha', 'start', '-P', nowhere, '-S', nowhere], /^colo-xl colo-ha start: .*nothing-here/],
      [['colo-ha', 'start', '-P', 'p', '-S', 's', '--tls-dir', dir], /^colo-xl colo-ha start: --tls-dir .*: needs ca-cert\.pem/],
      [['tour', nowhere], /^colo-xl tour: ENOENT/],
      [['devmodel-args', nowhere], /^Failed to read config file: .*nothing-here/],
      [['domxml-to-native', 'xen-xl', nowhere], /^colo-xl: cannot read domain XML .*nothing-here/],
      [['domxml-from-native', 'xen-xl', nowhere], /^colo-xl: cannot read config file .*nothing-here/],
      [['xenstored', '--socket', join(nowhere, 'sock')], /^colo-xl xenstored: listen E[A-Z]+/],
    ];
    for (const [argv, err] of cases) {
      it(argv.join(' '), async () => {
        const r = await cli(argv);
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stderr, err);
        assert.doesNotMatch(r.stderr, /Usage:/);
      });
    }
  });

  describe('--json: one record a line, `kind` its only discriminator, errors as records too', () => {
    const shape = (r: Record<string, unknown>): void => {
      assert.equal(typeof r.kind, 'string', JSON.stringify(r));
      for (const other of ['event', 'type', 'error']) assert.ok(!(other in r), `no "${other}" beside "kind": ${JSON.stringify(r)}`);
    };

    it('a usage error: {"kind":"error","code":"CLI_USAGE","message":...}', async () => {
      const r = await cli(['colo', 'status', '--json', '--bogus']);
      assert.equal(r.status, 2);
      assert.deepEqual(records(r.stdout), [{ kind: 'error', code: 'CLI_USAGE', message: 'unknown option --bogus' }]);
    });

    it('a failure: {"kind":"error","code":<the error code>,"message":...}', async () => {
      const r = await cli(['colo', 'status', '--json', '-P', nowhere]);
      assert.equal(r.status, 1);
      const [e, ...more] = records(r.stdout);
      assert.deepEqual(more, []);
      shape(e!);
      assert.equal(e!.kind, 'error');
      assert.match(String(e!.code), /^[A-Z][A-Z0-9_]+$/);
      assert.match(String(e!.message), /nothing-here/);
    });

    it('colo-ha start with an incomplete --tls-dir', async () => {
      const r = await cli(['colo-ha', 'start', '--json', '-P', 'p', '-S', 's', '--tls-dir', dir]);
      assert.equal(r.status, 1);
      assert.deepEqual(records(r.stdout).map((x) => [x.kind, x.code]), [['error', 'CLI_TLS_DIR_INCOMPLETE']]);
    });

    it('colo-ha witness: {"kind":"witness","port":N}', async () => {
      const r = await cli(['colo-ha', 'witness', '--json', '--listen', '127.0.0.1:0', '--for', '20']);
      assert.equal(r.status, 0, r.stderr);
      const [w] = records(r.stdout);
      shape(w!);
      assert.equal(w!.kind, 'witness');
      assert.ok(Number(w!.port) > 0);
    });

    it('colo-ha tls-init: {"kind":"tls-init","dir":...,"files":[...]}', async () => {
      const pki = join(dir, 'pki');
      const r = await cli(['colo-ha', 'tls-init', '--json', pki]);
      assert.equal(r.status, 0, r.stderr);
      const [t] = records(r.stdout);
      shape(t!);
      assert.deepEqual([t!.kind, t!.dir, (t!.files as string[]).length], ['tls-init', pki, 5]);
    });
  });

  describe('colo-ha start closes what it opened', () => {
    it('the primary QMP connection when the secondary cannot be reached', async () => {
      const p = await FakeQmpServer.unix();
      try {
        const conn = p.accept();
        const run = cli(['colo-ha', 'start', '-P', p.path, '-S', nowhere, '-d', '0', '-n', '127.0.0.1:1', '-m', '127.0.0.1:2']);
        const c = await conn;
        await c.handshake();
        const r = await run;
        assert.equal(r.status, 1);
        assert.match(r.stderr, /^colo-xl colo-ha start: .*nothing-here/);
        for (let i = 0; i < 100 && !c.closed; i++) await new Promise((res) => setTimeout(res, 10));
        assert.ok(c.closed, 'the primary connection is closed');
      } finally {
        await p.close();
      }
    });
  });
});
