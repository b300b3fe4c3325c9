import assert from 'node:assert/strict';
import { commands } from '../../cli/commands.js';
import { cli, cliProcess } from '../support/cli.js';

describe('colo-xl subcommands', () => {
  describe('every registry entry loads the command of its name', () => {
    for (const entry of commands) it(entry.name, async () => assert.equal((await entry.load()).name, entry.name));
  });

  it('help lists them all', async () => {
    const r = await cli(['help']);
    assert.equal(r.status, 0);
    for (const entry of commands) assert.match(r.stdout, new RegExp(`^ ${entry.name} `, 'm'), entry.name);
  });

  it('an unknown one is xl\'s "command not implemented"', async () => {
    assert.deepEqual(await cli(['no-such-command']), { status: 1, stdout: '', stderr: 'command not implemented\n' });
  });

  it('as a process: the exit status is the command\'s (help 0, usage 2)', async function () {
    this.timeout(30_000);
    const [help, usage] = await Promise.all([cliProcess(['colo', '--help']), cliProcess(['colo'])]);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: colo-xl colo /);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /^colo-xl colo: one step is needed/);
  });
});
