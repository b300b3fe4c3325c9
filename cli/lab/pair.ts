/**
 * A QEMU-native COLO pair on loopback for drills, the benchmark and tests: two real QEMUs (one
 * disk, no NIC), optionally with x509 TLS on NBD replication and the migration stream, driven
 * into COLO, in the caller's QemuGroup. Everything it starts is ended by stop() (by pid, through
 * QemuProcess), or with the group.
 */
import { join } from 'node:path';
import { nativePrimaryArgs, nativeSecondaryArgs } from '../../lib/colo/native-args.js';
import { QemuNativeColo } from '../../lib/colo/native.js';
import { commonArgs, createImage, freePort, pickAccel, type QemuGroup, type QemuProcess } from '../../lib/qemu/process.js';
import { tlsCredsArg } from '../../lib/tls/x509.js';

export interface PairOptions {
  dir: string;
  /** The group that owns both QEMUs (the caller ends it, and so them, whatever happens). */
  qemus: QemuGroup;
  /** Name prefix for the files and QMP sockets in dir. */
  name?: string;
  checkpointDelayMs?: number;
  /** A credentials dir (makeTlsDir): TLS on NBD and migration. */
  tlsDir?: string;
  /**
   * -trace colo_* with timestamps on the primary: the drill's verdict reads the time of each
   * vmstate-send from it (detection itself needs no trace: see colo/checkpoint.ts).
   */
  trace?: boolean;
  accel?: 'kvm' | 'tcg';
  /** Disk size for qemu-img (default 64M). */
  diskSize?: string;
}

export interface ColoPair {
  P: QemuProcess;
  S: QemuProcess;
  colo: QemuNativeColo;
  nbdPort: number;
  migPort: number;
  primaryImage: string;
  secondaryImage: string;
  /** ms from migrate to both sides in COLO. */
  startMs: number;
  stop(): Promise<void>;
}

/** The tls-creds-x509 object's id on both QEMUs (QemuNativeColo's opts.tlsCreds names it). */
const TLS_ID = 'colo-tls';

/** Starts both QEMUs; with `enter` (the default) also drives them into COLO. */
export async function startPair(o: PairOptions, enter = true): Promise<ColoPair> {
  const n = o.name ?? 'ha';
  const accel = o.accel ?? pickAccel();
  const [nbdPort, migPort] = [await freePort(), await freePort()];
  const img = (s: string) => createImage(join(o.dir, `${n}-${s}.qcow2`), o.diskSize);
  const primaryImage = img('p');
  const secondaryImage = img('s');
  const trace = o.trace ? ['-msg', 'timestamp=on', '-trace', 'colo_*'] : [];
  const tls = (ep: 'server' | 'client') => (o.tlsDir ? ['-object', tlsCredsArg(TLS_ID, o.tlsDir, ep)] : []);
  const S = await o.qemus.spawn(
    `${n}-s`,
    [...commonArgs(accel).filter((a) => a !== '-S'), ...tls('server'), ...nativeSecondaryArgs([{ index: 0, image: secondaryImage, activeDisk: img('a'), hiddenDisk: img('h') }], { host: '127.0.0.1', port: migPort })],
    o.dir,
  );
  let P: QemuProcess;
  try {
    P = await o.qemus.spawn(`${n}-p`, [...commonArgs(accel), ...trace, ...tls('client'), ...nativePrimaryArgs([{ index: 0, image: primaryImage }])], o.dir);
  } catch (e) {
    await S.stop(1000);
    throw e;
  }
  const colo = new QemuNativeColo(P.qmp, S.qmp, {
    disks: [0],
    nbd: { host: '127.0.0.1', port: nbdPort },
    migration: { host: '127.0.0.1', port: migPort },
    checkpointDelayMs: o.checkpointDelayMs ?? 1000,
    ...(o.tlsDir ? { tlsCreds: TLS_ID } : {}),
  });
  const pair: ColoPair = {
    P,
    S,
    colo,
    nbdPort,
    migPort,
    primaryImage,
    secondaryImage,
    startMs: 0,
    stop: async () => {
      await Promise.all([P.stop(1000), S.stop(1000)]);
    },
  };
  if (enter) {
    try {
      await colo.prepareSecondary();
      pair.startMs = await colo.start();
    } catch (e) {
      await pair.stop();
      throw e;
    }
  }
  return pair;
}

/**
 * Requests a checkpoint and waits until one begun after the request has completed (the exact
 * detector, QemuNativeColo.checkpoint). QEMU 7.2 was seen to lose writes made in the first epoch
 * after COLO entry on a later failover, so protection counts from here.
 */
export async function firstCheckpoint(pair: ColoPair, timeoutMs = 10_000): Promise<void> {
  await pair.colo.checkpoint({ timeoutMs });
}
