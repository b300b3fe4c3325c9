/**
 * How a Node management stack embeds colo-xl: open the xenstore, attach a COLO disk to a domain,
 * watch its backend come up with a timeout and an AbortSignal, read the disk back, detach it, and
 * close everything. Only the package's public subpaths are imported.
 *
 *   npm run build && node --import tsx examples/embed.ts            # self-contained
 *   node --import tsx examples/embed.ts --daemon --domid 7          # dom0's xenstored, domain 7
 *
 * Self-contained, it starts colo-xl's embedded xenstored on a temporary socket as a stand-in for
 * dom0's and makes the domain's xenstore nodes itself. A Xen host also runs a backend driver
 * (QEMU's qdisk for a COLO disk) that answers a new device by moving its backend `state` to 4
 * (Connected) and a removal by moving it to 6 (Closed); there is none here, so this program plays
 * that driver too, in `playBackend`, and says so. With --daemon it does neither: the real backend
 * answers, and the domain must exist.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AbortedError, ColoXlError, loggerFrom, WaitTimeoutError } from 'colo-xl';
import { deviceDiskAdd, deviceDiskGetinfo, deviceDiskList, deviceDiskRemove, domainMake, libxlCtx, waitForState, XenbusState } from 'colo-xl/libxl';
import { openXenstore, type Xenstore } from 'colo-xl/xenstore';
import { EmbeddedXenstored } from 'colo-xl/xenstored';
import { parseDiskSpec } from 'colo-xl/xlu';

const { values } = parseArgs({ options: { daemon: { type: 'boolean' }, domid: { type: 'string' } } });
const say = (line: string): void => void process.stdout.write(`${line}\n`);
// The stack's own log sink; colo-xl writes nothing to the console by itself.
const logger = loggerFrom((level, message, fields) => {
  if (level !== 'debug') say(`  [${level}] ${message} ${JSON.stringify(fields)}`);
});

/** The backend driver's half of the Xenbus handshake, for a machine without one (see above). */
async function playBackend(xs: Xenstore): Promise<() => Promise<void>> {
  const watch = await xs.watch('/local/domain/0/backend', 'example-backend');
  const loop = (async () => {
    for await (const ev of watch) {
      if (!ev.path.endsWith('/state')) continue;
      const state = await xs.tryRead(ev.path);
      if (state === '1') await xs.write(ev.path, '4');
      if (state === '5') await xs.write(ev.path, '6');
    }
  })();
  return async () => {
    await watch.close();
    await loop;
  };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'colo-xl-embed-'));
  const domid = Number(values.domid ?? 1);
  const daemon = values.daemon
    ? undefined
    : new EmbeddedXenstored({ logger });
  try {
    const socketPath = join(work, 'xenstored.sock');
    if (daemon) await daemon.listen(socketPath);
    // The wire client, as against dom0's xenstored: over its socket, bounded waits.
    // `await using` closes the client when the block is left, however it is left.
    await using xs = await openXenstore({ mode: 'daemon', timeoutMs: 5000, ...(daemon ? { socketPath } : {}) });
    const ctx = libxlCtx(xs, { logger, userdataDir: join(work, 'userdata') });
    const stopBackend = daemon ? await playBackend(xs) : async () => {};
    try {
      if (daemon) {
        await domainMake(ctx, { domid, name: 'embed-guest', uuid: randomUUID(), type: 'hvm' });
        say(`made domain ${domid} (its xenstore nodes; the hypervisor half is the host's)`);
      }
      for (const f of ['primary.qcow2', 'active.qcow2', 'hidden.qcow2']) writeFileSync(join(work, f), '');
      const spec =
        `vdev=xvdb,format=qcow2,colo,colo-host=127.0.0.1,colo-port=9000,colo-export=e1,` +
        `active-disk=${join(work, 'active.qcow2')},hidden-disk=${join(work, 'hidden.qcow2')},target=${join(work, 'primary.qcow2')}`;
      const disk = parseDiskSpec(spec, { source: 'embed example' });
      say(`parsed: vdev ${disk.vdev}, format ${disk.format}, colo ${disk.colo_enable ? 'on' : 'off'}`);

      // Attach. As in libxl, a backend QEMU serves (qdisk) is not waited for: QEMU connects it on
      // its own. The stack waits for that itself: at most 10 s, or until it calls cancel.abort()
      // (then AbortedError, and nothing is left waiting).
      const cancel = new AbortController();
      const device = await deviceDiskAdd(ctx, domid, disk, { signal: cancel.signal, timeoutMs: 10_000 });
      const statePath = `/local/domain/${device.backendDomid}/backend/${device.backendKind}/${domid}/${device.devid}/state`;
      await waitForState(ctx, statePath, [XenbusState.Connected], { signal: cancel.signal, timeoutMs: 10_000 });
      say(`attached: devid ${device.devid}, backend ${device.backendKind}, state ${await xs.read(statePath)}`);

      // A stack watching a node with its own bounds: the first event is the watch's initial fire.
      const watch = await xs.watch(statePath, 'embed-state');
      try {
        const first = await watch.next({ timeoutMs: 2000 });
        say(`watch fired for ${first?.path}`);
        try {
          await watch.next({ timeoutMs: 200 });
          say('unexpected: the state changed with nothing touching it');
        } catch (e) {
          if (!(e instanceof WaitTimeoutError)) throw e;
          say(`no change within 200 ms: ${e.name} (${e.code})`);
        }
        const stop = new AbortController();
        setTimeout(() => stop.abort(new Error('the stack is shutting down')), 50);
        try {
          await watch.next({ signal: stop.signal, timeoutMs: 5000 });
        } catch (e) {
          if (!(e instanceof AbortedError)) throw e;
          say(`wait given up by its AbortSignal: ${e.name} (${e.code})`);
        }
      } finally {
        await watch.close();
      }

      // Read back what libxl would: the domain's disks and this one's state.
      const disks = await deviceDiskList(ctx, domid);
      say(`read back: ${disks.map((d) => `${d.vdev} on ${d.pdev_path} (backend ${d.backend})`).join(', ')}`);
      const info = await deviceDiskGetinfo(ctx, domid, disk);
      // the frontend's state: 1 (Initialising) until a guest's driver connects, as in any domain
      // without a running guest
      say(`getinfo: backend ${info.backend}, frontend state ${info.state}`);

      await deviceDiskRemove(ctx, domid, disk, 'off', { timeoutMs: 10_000 });
      say(`detached: ${(await deviceDiskList(ctx, domid)).length} disks left`);
    } finally {
      await stopBackend();
    }
  } finally {
    await daemon?.close();
    rmSync(work, { recursive: true, force: true });
  }
}

try {
  await main();
  say('done');
} catch (e) {
  // Every failure colo-xl means is a ColoXlError with a stable code to branch on.
  if (e instanceof ColoXlError) say(`failed: ${e.name} ${e.code}: ${e.message}`);
  else throw e;
  process.exitCode = 1;
}
