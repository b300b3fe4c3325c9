/**
 * TLS for the two channels of a migration (the NBD mirror and QEMU's migration stream), with the
 * x509 credentials of lib/tls/: the directory holds QEMU's usual file names (ca-cert.pem and the
 * server-… files for the destination, the client-… files for the source).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { QMPClient } from '../qmp/client.js';
import { tlsCredsObject, type TlsEndpoint } from '../tls/x509.js';
import { MigrateFailure } from './types.js';

export const TLS_OBJECT_ID = 'colo-xl-migrate-tls';

/** The files `endpoint` needs from `dir`; throws naming the first one missing. */
export function checkTlsDir(dir: string, endpoint: TlsEndpoint): void {
  for (const f of ['ca-cert.pem', `${endpoint}-cert.pem`, `${endpoint}-key.pem`]) {
    if (!existsSync(join(dir, f))) throw new MigrateFailure('MIGRATE_TLS_DIR', `--tls-dir ${dir}: ${f} is missing`);
  }
}

/** Adds the tls-creds-x509 object (peers verified both ways). */
export async function addTlsCreds(qmp: QMPClient, dir: string, endpoint: TlsEndpoint): Promise<string> {
  checkTlsDir(dir, endpoint);
  await qmp.execute('object-add', tlsCredsObject(TLS_OBJECT_ID, dir, endpoint));
  return TLS_OBJECT_ID;
}

/** Makes the migration stream use the credentials (both ends must). */
export async function setMigrationTls(qmp: QMPClient, credsId: string): Promise<void> {
  await qmp.execute('migrate-set-parameters', { 'tls-creds': credsId });
}
