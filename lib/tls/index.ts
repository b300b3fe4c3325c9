/**
 * TLS credentials for QEMU (x509 directories).
 * @module
 */
export { makeTlsDir, isTlsDir, tlsCredsArg, tlsCredsObject, type TlsDirOptions } from './x509.js';
