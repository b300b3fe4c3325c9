import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main.js';
import { CapturedIo } from '../../cli/io.js';
import { EmbeddedXenstored } from '../../lib/xenstore/server/embedded.js';

describe('colo-xl xenstored: arguments and start-up failures', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'colo-xl-xscli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prints usage for --help and is listed by colo-xl help', async () => {
    const io = new CapturedIo();
    assert.equal(await main(['xenstored', '--help'], io), 0);
    assert.match(io.stdout, /^Usage: colo-xl xenstored \[--socket PATH\] \[--state FILE\] \[QUOTA OPTIONS\]\n/);
    const help = new CapturedIo();
    await main(['help'], help);
    assert.match(help.stdout, / xenstored\s+Serve the embedded xenstore on a unix socket\n/);
  });

  it('refuses unknown arguments and missing values with status 2', async () => {
    const io = new CapturedIo();
    assert.equal(await main(['xenstored', '--bogus'], io), 2);
    assert.match(io.stderr, /unknown option --bogus/);
    const io2 = new CapturedIo();
    assert.equal(await main(['xenstored', '--socket'], io2), 2);
    assert.match(io2.stderr, /--socket needs a value/);
  });

  it('fails with status 1 and a message when it cannot serve', async () => {
    const io = new CapturedIo();
    assert.equal(await main(['xenstored', '--socket', join(dir, 'no', 'such', 'dir', 'socket')], io), 1);
    assert.match(io.stderr, /^colo-xl xenstored: listen E[A-Z]+/);
    // With a state file, a failed start must not keep its lock.
    const io1 = new CapturedIo();
    assert.equal(await main(['xenstored', '--socket', join(dir, 'no', 'socket'), '--state', join(dir, 'st')], io1), 1);
    assert.ok(!existsSync(join(dir, 'st.lock')));
    // A state file another live process owns.
    const state = join(dir, 'state.journal');
    const owner = new EmbeddedXenstored({ statePath: state });
    const io2 = new CapturedIo();
    assert.equal(await main(['xenstored', '--socket', join(dir, 's'), '--state', state], io2), 1);
    assert.match(io2.stderr, /in use by process \d+/);
    await owner.close();
    // A file that is not a journal is left alone, not compacted away.
    writeFileSync(join(dir, 'garbage'), 'not json at all\n');
    const io3 = new CapturedIo();
    assert.equal(await main(['xenstored', '--socket', join(dir, 's'), '--state', join(dir, 'garbage')], io3), 1);
    assert.match(io3.stderr, /garbage:1: not a colo-xl xenstore journal record/);
    assert.equal(readFileSync(join(dir, 'garbage'), 'utf8'), 'not json at all\n');
    // ...and its lock is not left behind.
    assert.ok(!existsSync(join(dir, 'garbage.lock')));
  });
});
