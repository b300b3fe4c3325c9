/**
 * `HOST:PORT` as colo-xl's options and xenstore nodes spell an endpoint (an IPv6 host in
 * brackets, `[::1]:9000`), and `tcp:HOST:PORT`-or-a-path as colo-xl records a QMP socket. The one
 * parser for every part (heartbeat, witness, COLO's NBD and migration addresses, the CLI).
 * @module
 */
import { InvalidArgumentError } from '../errors.js';

export interface HostPort {
  host: string;
  port: number;
}

const HOST_PORT = /^(?:\[([^\]]+)\]|([^[\]]+?)):(\d+)$/;

/** `HOST:PORT` (brackets around the host dropped), or null when `s` is not one or the port is past 65535. */
export function tryParseHostPort(s: string): HostPort | null {
  const m = HOST_PORT.exec(s);
  if (!m) return null;
  const port = Number(m[3]);
  if (!(port <= 65535)) return null;
  return { host: (m[1] ?? m[2])!, port };
}

/** tryParseHostPort, throwing InvalidArgumentError (`what "s": expected HOST:PORT`) for anything else. */
export function parseHostPort(s: string, what = 'address'): HostPort {
  const hp = tryParseHostPort(s);
  if (!hp) throw new InvalidArgumentError(`${what} "${s}": expected HOST:PORT`);
  return hp;
}

/** The inverse of parseHostPort: an IPv6 host goes in brackets. */
export function formatHostPort(hp: HostPort): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/** `tcp:HOST:PORT` as an endpoint; anything else is a Unix socket path, returned as it is. */
export function parseTcpOrPath(s: string): HostPort | string {
  return (s.startsWith('tcp:') && tryParseHostPort(s.slice(4))) || s;
}
