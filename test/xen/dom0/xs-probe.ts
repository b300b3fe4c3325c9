/**
 * Run INSIDE the rig's dom0 (node --import tsx, from the read-only shared checkout): colo-xl's
 * xenstore client against dom0's real C xenstored, over the transport named in argv[2]
 * ("socket" or "xenbus"). Prints one JSON line of what it saw; the host's test judges it and
 * cross-checks with Xen's own xenstore-* tools.
 */
import { XsClient } from '../../../lib/xenstore/client.js';
import { UnixSocketTransport, XENBUS_DEVICE, XenbusDeviceTransport, defaultSocketPath } from '../../../lib/xenstore/transport.js';

const via = process.argv[2];
if (via !== 'socket' && via !== 'xenbus') throw new RangeError(`usage: xs-probe.ts socket|xenbus (got ${via})`);
const base = `/local/domain/0/xen-rig-probe/${via}`;
const transport = via === 'socket' ? await UnixSocketTransport.connect(defaultSocketPath()) : XenbusDeviceTransport.open(XENBUS_DEVICE);
const xs = new XsClient(transport, { timeoutMs: 60_000 });
try {
  const dom0Name = await xs.read('/local/domain/0/name');
  const domainPath = await xs.getDomainPath(0);
  await xs.write(`${base}/value`, `written over ${via}`);
  const watch = await xs.watch(`${base}/watched`);
  // xenstored fires a new watch once at once (xenstored_watch.c:do_watch); drain it first.
  const initial = await watch.next({ timeoutMs: 30_000 });
  await xs.write(`${base}/watched`, 'x');
  const fired = await watch.next({ timeoutMs: 30_000 });
  await watch.close();
  const fromTx = await xs.transaction(async (tx) => {
    await tx.write(`${base}/tx`, 'in a transaction');
    return tx.read(`${base}/value`);
  });
  const listing = (await xs.directory(base)).sort();
  const perms = await xs.getPerms(`${base}/value`);
  process.stdout.write(`${JSON.stringify({
    via, dom0Name, domainPath, fromTx, listing,
    perms: perms.map((p) => ({ ...p })),
    initialWatch: initial?.path, firedWatch: fired?.path,
  })}\n`);
} finally {
  await xs.close();
}
