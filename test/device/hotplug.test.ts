/**
 * libxl's hotplug script runs (lib/libxl/hotplug.ts) with scripts written for each case: what the
 * script is given, and libxl's words when it fails, hangs, dies or cannot be run.
 */
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AbortedError } from '../../lib/errors.js';
import { libxlCtx, type LibxlCtx } from '../../lib/libxl/ctx.js';
import type { LibxlDevice } from '../../lib/libxl/device.js';
import { deviceGenericRemove } from '../../lib/libxl/device-connection.js';
import { ERROR_FAIL, ERROR_TIMEDOUT, LibxlError } from '../../lib/libxl/errors.js';
import { deviceHotplug } from '../../lib/libxl/hotplug.js';
import { EmbeddedXenstored } from '../../lib/xenstore/server/embedded.js';
import { scratchDir } from '../support/fake-dir.js';
import { captureLibxlLines } from '../support/fake-logger.js';

const VBD: LibxlDevice = { backendDomid: 0, backendDevid: 51712, backendKind: 'vbd', domid: 3, devid: 51712, kind: 'vbd' };
const BE = '/local/domain/0/backend/vbd/3/51712';

describe('hotplug scripts as libxl runs them', function () {
  this.timeout(20_000);
  const scratch = scratchDir('colo-xl-hotplug-');
  // each case's store, its libxl context, libxl's lines, and what the scripts wrote
  let store: EmbeddedXenstored, ctx: LibxlCtx, lines: string[], output: string;

  /** A script at `name` with `body`, named in the backend's `script` node as libxl wrote it. */
  async function script(name: string, body: string): Promise<string> {
    const path = join(scratch.path, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    await ctx.xs.write(`${BE}/script`, path);
    return path;
  }

  beforeEach(async () => {
    store = new EmbeddedXenstored();
    const captured = captureLibxlLines('warn');
    lines = captured.lines;
    output = '';
    ctx = libxlCtx(store.client(), { logger: captured.logger, env: { PATH: process.env.PATH, KEEP: 'kept' }, hotplugOutput: (t) => (output += t) });
  });
  afterEach(async () => {
    await ctx.xs.close();
    await store.close();
  });

  it('gives the script its action and libxl\'s four variables on top of the toolstack\'s environment', async () => {
    const seen = join(scratch.path, 'seen');
    const path = await script('env-block', `echo "$1 $script $XENBUS_TYPE $XENBUS_PATH $XENBUS_BASE_PATH $KEEP" > ${seen}; echo to-stdout; echo to-stderr >&2`);
    await deviceHotplug(ctx, VBD, 'add');
    assert.equal(readFileSync(seen, 'utf8'), `add ${path} vbd backend/vbd/3/51712 backend kept\n`);
    assert.equal(output, 'to-stdout\nto-stderr\n');
    assert.deepEqual(lines, []);
  });

  it('a backend QEMU serves has no script; a driver domain runs its own', async () => {
    await deviceHotplug(ctx, { ...VBD, backendKind: 'qdisk' }, 'add');
    await deviceHotplug(ctx, { ...VBD, backendDomid: 5 }, 'add');
    assert.deepEqual(lines, []);
  });

  it('no script node: libxl\'s two lines and ERROR_FAIL', async () => {
    await assert.rejects(deviceHotplug(ctx, VBD, 'add'), (e: unknown) => e instanceof LibxlError && e.rc === ERROR_FAIL);
    assert.deepEqual(lines, [
      `libxl: error: libxl_linux.c:libxl__hotplug_disk: Domain 3:unable to read script from ${BE}: No such file or directory\n`,
      `libxl: error: libxl_device.c:device_hotplug: Domain 3:unable to get args/env to execute hotplug script for device ${BE}\n`,
    ]);
  });

  it('a script that cannot be run: the child\'s words and status 255', async () => {
    await ctx.xs.write(`${BE}/script`, '/nonexistent/block');
    await assert.rejects(deviceHotplug(ctx, VBD, 'add'), LibxlError);
    assert.equal(output, 'libxl: cannot execute /nonexistent/block: No such file or directory\n');
    assert.match(lines[0]!, /^libxl: error: libxl_exec.c:libxl_report_child_exitstatus: \/nonexistent\/block add \[-?\d+\] exited with error status 255\n$/);
  });

  it('a script that hangs is killed after the hotplug timeout: ERROR_TIMEDOUT', async () => {
    const path = await script('hang', 'exec sleep 30');
    const t0 = Date.now();
    await assert.rejects(deviceHotplug(ctx, VBD, 'add', { timeoutMs: 200 }), (e: unknown) => e instanceof LibxlError && e.rc === ERROR_TIMEDOUT);
    assert.ok(Date.now() - t0 < 5000);
    assert.deepEqual(lines, [`libxl: error: libxl_aoutils.c:async_exec_timeout: killing execution of ${path} add because of timeout\n`]);
  });

  it('a script killed by a signal: strsignal\'s name', async () => {
    const path = await script('segv', 'kill -SEGV $$');
    await assert.rejects(deviceHotplug(ctx, VBD, 'add'), LibxlError);
    assert.match(lines[0]!, new RegExp(`^libxl: error: libxl_exec.c:libxl_report_child_exitstatus: ${path} add \\[\\d+\\] died due to fatal signal Segmentation fault\\n$`));
  });

  it('the caller\'s AbortSignal kills the script: AbortedError', async () => {
    await script('hang2', 'exec sleep 30');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(deviceHotplug(ctx, VBD, 'add', { signal: ac.signal }), AbortedError);
  });

  it('on removal a failing script is logged and passed over, and the nodes go', async () => {
    const path = await script('fail-remove', 'exit 3');
    await ctx.xs.write(`${BE}/state`, '6');
    await ctx.xs.write('/local/domain/3/device/vbd/51712/state', '6');
    await deviceGenericRemove(ctx, VBD, 'off', { timeoutMs: 1000 });
    assert.match(lines[0]!, new RegExp(`^libxl: error: libxl_exec.c:libxl_report_child_exitstatus: ${path} remove \\[\\d+\\] exited with error status 3\\n$`));
    assert.equal(await ctx.xs.exists(BE), false);
    assert.equal(await ctx.xs.exists('/local/domain/3/device/vbd/51712'), false);
  });
});
