import assert from 'node:assert/strict';
import { commands } from '../../cli/commands.js';
import { CapturedIo } from '../../cli/io.js';
import { main as cliMain } from '../../cli/main.js';

describe('colo-xl subcommands', () => {
  it('every registry entry loads the command of its name', async () => {
    for (const entry of commands) assert.equal((await entry.load()).name, entry.name);
  });

  it('help lists them all; an unknown one is xl\'s "command not implemented"', async () => {
    const io = new CapturedIo();
    assert.equal(await cliMain(['help'], io), 0);
    for (const entry of commands) assert.match(io.stdout, new RegExp(`^ ${entry.name} `, 'm'));
    const bad = new CapturedIo();
    assert.equal(await cliMain(['no-such-command'], bad), 1);
    assert.equal(bad.stderr, 'command not implemented\n');
  });
});
