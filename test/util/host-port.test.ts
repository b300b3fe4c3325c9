/** The one HOST:PORT parser (lib/util/host-port.ts), case by case. */
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../lib/errors.js';
import { formatHostPort, parseHostPort, parseTcpOrPath, tryParseHostPort, type HostPort } from '../../lib/util/host-port.js';

const GOOD: Array<[string, HostPort]> = [
  ['127.0.0.1:7000', { host: '127.0.0.1', port: 7000 }],
  ['[::1]:9', { host: '::1', port: 9 }],
  ['[fe80::1%eth0]:65535', { host: 'fe80::1%eth0', port: 65535 }],
  ['node-b.example:0', { host: 'node-b.example', port: 0 }],
];
const BAD = ['127.0.0.1', 'h:70000', ':80', 'h:', 'h:8x', '[::1:9', ''];

describe('host:port parsing', () => {
  for (const [s, want] of GOOD) {
    it(`reads ${s}`, () => assert.deepEqual(parseHostPort(s), want));
    it(`writes ${s} back`, () => assert.equal(formatHostPort(want), s));
  }
  for (const s of BAD) {
    it(`refuses ${JSON.stringify(s)}`, () => {
      assert.equal(tryParseHostPort(s), null);
      assert.throws(() => parseHostPort(s, '--peer'), (e: unknown) => e instanceof InvalidArgumentError && e.message === `--peer "${s}": expected HOST:PORT`);
    });
  }
  it('reads tcp:HOST:PORT as an endpoint', () => assert.deepEqual(parseTcpOrPath('tcp:[::1]:4444'), { host: '::1', port: 4444 }));
  it('keeps anything else as a path', () => {
    assert.equal(parseTcpOrPath('/run/xen/qmp-libxl-3'), '/run/xen/qmp-libxl-3');
    assert.equal(parseTcpOrPath('tcp:nohost'), 'tcp:nohost');
  });
});
