/**
 * The disk half of Xen COLO, ported from libxl_colo_qdisk.c and the replication calls of
 * libxl_colo_save.c / libxl_colo_restore.c: each function is one QMP exchange libxl makes (or
 * should make), with every reply checked — libxl ignores some of them.
 */
import type { QMPClient } from '../qmp/client.js';
import { QMPExecuteError } from '../qmp/errors.js';
import { ColoError, coloStep, ReplicationStatusError, type ColoSide } from './errors.js';

/** What libxl takes from a libxl_device_disk for replication (spec §6.3). */
export interface ColoDisk {
  /** libxl__device_disk_dev_number(vdev), e.g. 768 for hda: names the primary's NBD node. */
  devid: number;
  /** colo-export: the secondary's extra drive id, exported over NBD; the primary's quorum id. */
  exportName: string;
  host: string;
  port: number;
}

/** The node libxl's drive_add creates on the primary for a disk. */
export function coloNodeName(disk: ColoDisk): string {
  return `colo_node${disk.devid}`;
}

// libxl__qmp_nbd_server_start: the port goes as a string, as libxl sends it.
export function nbdServerStart(qmp: QMPClient, host: string, port: number): Promise<unknown> {
  return coloStep('secondary', 'nbd-server-start', () =>
    qmp.execute('nbd-server-start', { addr: { type: 'inet', data: { host, port: String(port) } } }),
  );
}

// libxl__qmp_nbd_server_add
export function nbdServerAdd(qmp: QMPClient, exportName: string): Promise<unknown> {
  return coloStep('secondary', 'nbd-server-add', () => qmp.execute('nbd-server-add', { device: exportName, writable: true }));
}

// libxl__qmp_nbd_server_stop
export function nbdServerStop(qmp: QMPClient): Promise<unknown> {
  return coloStep('secondary', 'nbd-server-stop', () => qmp.execute('nbd-server-stop'));
}

// libxl__qmp_start_replication
export function startReplication(qmp: QMPClient, primary: boolean): Promise<unknown> {
  return coloStep(primary ? 'primary' : 'secondary', 'xen-set-replication enable', () =>
    qmp.execute('xen-set-replication', { enable: true, primary }),
  );
}

// libxl__qmp_stop_replication, plus QEMU's "failover" flag that libxl never sends
export function stopReplication(qmp: QMPClient, primary: boolean, failover = false): Promise<unknown> {
  const args: Record<string, unknown> = { enable: false, primary };
  if (failover) args.failover = true;
  return coloStep(primary ? 'primary' : 'secondary', `xen-set-replication disable${failover ? ' (failover)' : ''}`, () =>
    qmp.execute('xen-set-replication', args),
  );
}

// libxl__qmp_colo_do_checkpoint
export function coloDoCheckpoint(qmp: QMPClient, side: ColoSide): Promise<unknown> {
  return coloStep(side, 'xen-colo-do-checkpoint', () => qmp.execute('xen-colo-do-checkpoint'));
}

// libxl__qmp_query_xen_replication_status, but the status object is inspected (libxl does not).
export async function queryXenReplicationStatus(qmp: QMPClient, side: ColoSide): Promise<void> {
  const st = await coloStep(side, 'query-xen-replication-status', () =>
    qmp.execute<{ error?: boolean; desc?: string }>('query-xen-replication-status'),
  );
  if (st?.error) throw new ReplicationStatusError(side, st.desc ?? 'unknown error');
}

// libxl__qmp_x_blockdev_change
export function xBlockdevChange(qmp: QMPClient, parent: string, change: { child: string } | { node: string }): Promise<unknown> {
  return coloStep('primary', 'x-blockdev-change', () => qmp.execute('x-blockdev-change', { parent, ...change }));
}

/** HMP through QMP; a non-empty answer from drive_add / drive_del is its error message. */
async function hmpQuiet(qmp: QMPClient, side: ColoSide, line: string): Promise<void> {
  const out = await coloStep(side, line.split(' ')[0] ?? 'hmp', () => qmp.hmp(line));
  if (out.trim() !== '') throw new ColoError(side, line, out.trim());
}

// colo_qdisk_setup (secondary): one NBD server for every disk, then one export per disk
export async function coloQdiskSetupSecondary(qmp: QMPClient, disks: ColoDisk[]): Promise<void> {
  const first = disks[0];
  if (!first) throw new ColoError('secondary', 'setup', 'no COLO disk');
  for (const d of disks) {
    if (d.host !== first.host || d.port !== first.port) {
      throw new ColoError('secondary', 'setup', 'The host and port of all disks must be the same');
    }
  }
  await nbdServerStart(qmp, first.host, first.port);
  for (const d of disks) await nbdServerAdd(qmp, d.exportName);
}

// colo_qdisk_save_preresume (primary, first checkpoint): NBD replication node as quorum child 1
export async function coloQdiskSavePreresume(qmp: QMPClient, disk: ColoDisk): Promise<void> {
  await hmpQuiet(
    qmp,
    'primary',
    `drive_add -n buddy driver=replication,mode=primary,file.driver=nbd,file.host=${disk.host},` +
      `file.port=${disk.port},file.export=${disk.exportName},node-name=${coloNodeName(disk)}`,
  );
  await xBlockdevChange(qmp, disk.exportName, { node: coloNodeName(disk) });
}

// colo_qdisk_teardown (primary): libxl assumes the NBD child is "children.1"; we also free the
// node so that a later resume can add it again under the same name.
export async function coloQdiskTeardownPrimary(qmp: QMPClient, disk: ColoDisk): Promise<void> {
  await xBlockdevChange(qmp, disk.exportName, { child: 'children.1' });
  await coloStep('primary', 'blockdev-del', () => qmp.execute('blockdev-del', { 'node-name': coloNodeName(disk) }));
}

/** True when a QMPExecuteError's description contains `text`. */
export function isQmpError(e: unknown, text: string): boolean {
  const cause = e instanceof ColoError ? e.cause : e;
  return cause instanceof QMPExecuteError && cause.desc.includes(text);
}
