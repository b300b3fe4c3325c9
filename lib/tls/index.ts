/**
 * TLS credentials for QEMU (x509 directories).
 * @module
 */
export { makeTlsDir, isTlsDir, tlsCredsArg, tlsCredsObject, TlsError, OPENSSL, type TlsDirOptions, type TlsEndpoint } from './x509.js';
