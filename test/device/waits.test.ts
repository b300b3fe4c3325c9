/**
 * The bounded waits of the disk device layer (deviceDiskAdd, deviceDiskRemove, waitForState) and
 * libxl's log lines through the injected Logger.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AbortedError, WaitTimeoutError } from '../../lib/errors.js';
import { libxlCtx, type LibxlCtx } from '../../lib/libxl/ctx.js';
import { XenbusState, waitForState } from '../../lib/libxl/device.js';
import { deviceDiskAdd, deviceDiskRemove } from '../../lib/libxl/disk.js';
import { domainMake } from '../../lib/libxl/domain-make.js';
import { ERROR_TIMEDOUT, LibxlError } from '../../lib/libxl/errors.js';
import { formatLibxlLogLine } from '../../lib/libxl/log.js';
import { EmbeddedXenstored } from '../../lib/xenstore/server/embedded.js';
import { parseDiskSpec } from '../../lib/xlu/disk/parse.js';
import { scratchDir } from '../support/fake-dir.js';
import { captureLibxlLines } from '../support/fake-logger.js';

const BE = '/local/domain/0/backend/vbd/3/51712';

describe('disk device waits: timeouts and aborts are typed errors', function () {
  this.timeout(20_000);
  const scratch = scratchDir('colo-xl-waits-');
  let store: EmbeddedXenstored;
  let ctx: LibxlCtx;
  let lines: string[];
  let spec: string;

  beforeEach(async () => {
    store = new EmbeddedXenstored();
    const captured = captureLibxlLines('warn');
    lines = captured.lines;
    ctx = libxlCtx(store.client(), { logger: captured.logger, userdataDir: join(scratch.path, 'ud'), pipeline: false });
    await domainMake(ctx, { domid: 3, name: 'guest', uuid: '00000000-0000-4000-8000-000000000003', type: 'hvm' });
    const img = join(scratch.path, 'd.img');
    writeFileSync(img, '');
    spec = `vdev=xvda,format=raw,target=${img}`;
  });
  afterEach(async () => {
    await ctx.xs.close();
    await store.close();
  });

  it('a backend that never connects: LibxlError ERROR_TIMEDOUT, caused by the WaitTimeoutError, and libxl\'s line', async () => {
    const e = await deviceDiskAdd(ctx, 3, parseDiskSpec(spec), { updateJson: false, timeoutMs: 50 }).then(() => null, (err: unknown) => err);
    assert.ok(e instanceof LibxlError, String(e));
    assert.equal(e.rc, ERROR_TIMEDOUT);
    assert.equal(e.code, 'LIBXL_ERROR_TIMEDOUT');
    assert.ok(e.cause instanceof WaitTimeoutError);
    assert.deepEqual(lines, [`libxl: error: libxl_device.c:device_backend_callback: Domain 3:unable to add device with path ${BE}\n`]);
  });

  it("the caller's AbortSignal gives the wait up with AbortedError", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('operator')), 30);
    await assert.rejects(deviceDiskAdd(ctx, 3, parseDiskSpec(spec), { updateJson: false, signal: ac.signal }), AbortedError);
  });

  it('an already aborted signal writes nothing', async () => {
    await assert.rejects(deviceDiskAdd(ctx, 3, parseDiskSpec(spec), { signal: AbortSignal.abort() }), AbortedError);
    assert.equal(await ctx.xs.tryRead(`${BE}/state`), undefined);
  });

  it('a safe remove of a backend that never closes times out as libxl does, and keeps the disk', async () => {
    const disk = parseDiskSpec(spec);
    await deviceDiskAdd(ctx, 3, disk, { updateJson: false, wait: false });
    await assert.rejects(deviceDiskRemove(ctx, 3, disk, 'off', { timeoutMs: 50 }), (e: unknown) => e instanceof LibxlError && e.rc === ERROR_TIMEDOUT);
    assert.equal(await ctx.xs.read(`${BE}/state`), String(XenbusState.Closing));
  });

  it('waitForState resolves once the state is written', async () => {
    await ctx.xs.write(`${BE}/state`, '1');
    const seen = waitForState(ctx, `${BE}/state`, [XenbusState.Connected], { timeoutMs: 5000 });
    await ctx.xs.write(`${BE}/state`, '4');
    assert.equal(await seen, XenbusState.Connected);
  });
});

describe("libxl's log line (formatLibxlLogLine)", () => {
  const cases: [Parameters<typeof formatLibxlLogLine>, string][] = [
    [['error', 'boom', { where: 'libxl_disk.c:f', domid: 4 }], 'libxl: error: libxl_disk.c:f: Domain 4:boom\n'],
    [['debug', 'hello', { where: 'libxl_device.c:g' }], 'libxl: debug: libxl_device.c:g: hello\n'],
    [['warn', 'careful', { where: 'x.c:h', scope: 'libxl' }], 'libxl: warning: x.c:h: careful\n'],
  ];
  for (const [args, want] of cases) {
    it(JSON.stringify(want), () => assert.equal(formatLibxlLogLine(...args), want));
  }
});
