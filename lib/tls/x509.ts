/**
 * x509 credentials for COLO's replication channels: a CA and server/client certificates made
 * with Debian's openssl, in the file layout QEMU's tls-creds-x509 reads (ca-cert.pem,
 * server-cert.pem/-key.pem, client-cert.pem/-key.pem), and the tls-creds-x509 objects themselves
 * (as -object text or QMP object-add arguments).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ColoXlError } from '../errors.js';

export const OPENSSL = '/usr/bin/openssl';

export interface TlsDirOptions {
  /** Names the certificates are valid for (subjectAltName); loopback by default. */
  ips?: string[];
  dns?: string[];
  /** Common name prefix, so that two PKIs made for a test can be told apart. */
  name?: string;
  days?: number;
}

/** openssl could not be run (TLS_OPENSSL_MISSING) or refused (TLS_OPENSSL_FAILED). */
export class TlsError extends ColoXlError {}

function openssl(cwd: string, ...args: string[]): void {
  const r = spawnSync(OPENSSL, args, { cwd, encoding: 'utf8' });
  if (r.error) throw new TlsError('TLS_OPENSSL_MISSING', `${OPENSSL}: ${r.error.message} (install the Debian package openssl)`, { cause: r.error });
  if (r.status !== 0) throw new TlsError('TLS_OPENSSL_FAILED', `openssl ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
}

/** Makes `dir` a QEMU x509 credentials directory: a new CA, then one server and one client cert. */
export function makeTlsDir(dir: string, o: TlsDirOptions = {}): string {
  mkdirSync(dir, { recursive: true });
  const name = o.name ?? 'colo-xl';
  const days = String(o.days ?? 3650);
  const san = [...(o.ips ?? ['127.0.0.1']).map((i) => `IP:${i}`), ...(o.dns ?? ['localhost']).map((d) => `DNS:${d}`)].join(',');
  openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca-cert.pem', '-days', days,
    '-subj', `/CN=${name} CA`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  for (const role of ['server', 'client']) {
    const ext = join(dir, `${role}.ext`);
    // both purposes on both: after a failover the same host plays the other end
    writeFileSync(ext, `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=${san}\n`);
    openssl(dir, 'req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${role}-key.pem`, '-out', `${role}.csr`, '-subj', `/CN=${name} ${role}`);
    openssl(dir, 'x509', '-req', '-in', `${role}.csr`, '-CA', 'ca-cert.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', `${role}-cert.pem`, '-days', days, '-extfile', ext);
    rmSync(ext);
    rmSync(join(dir, `${role}.csr`));
  }
  return dir;
}

export function isTlsDir(dir: string): boolean {
  return ['ca-cert.pem', 'server-cert.pem', 'server-key.pem', 'client-cert.pem', 'client-key.pem'].every((f) => existsSync(join(dir, f)));
}

export type TlsEndpoint = 'server' | 'client';

/** The `-object` argument of a tls-creds-x509 object; peers are always verified. */
export function tlsCredsArg(id: string, dir: string, endpoint: TlsEndpoint): string {
  return `tls-creds-x509,id=${id},endpoint=${endpoint},dir=${dir},verify-peer=on`;
}

/** The same object for QMP object-add. */
export function tlsCredsObject(id: string, dir: string, endpoint: TlsEndpoint): Record<string, unknown> {
  return { 'qom-type': 'tls-creds-x509', id, endpoint, dir, 'verify-peer': true };
}
