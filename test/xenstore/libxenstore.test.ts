import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LibxenstoreClient } from '../../lib/native/libxenstore.js';
import { startRealXenstored, type RealXenstored } from '../support/real-xenstored.js';
import { requireFile } from '../support/require-tool.js';
import { startCliDaemon, type CliDaemon } from './cli-daemon.js';
import { clientSuite } from './suite.js';

const LIB = '/usr/lib/x86_64-linux-gnu/libxenstore.so.4';

/** xs_open with XENSTORED_PATH set to `socket` for the call: the test's env, not the library's. */
function openAt(socket: string): LibxenstoreClient {
  const saved = process.env.XENSTORED_PATH;
  process.env.XENSTORED_PATH = socket;
  try {
    return LibxenstoreClient.open();
  } finally {
    if (saved === undefined) delete process.env.XENSTORED_PATH;
    else process.env.XENSTORED_PATH = saved;
  }
}

describe('libxenstore.so.4 via koffi, same suite, against Xen 4.17 C xenstored', function () {
  this.timeout(30_000);
  let real: RealXenstored;
  before(async () => {
    requireFile(LIB, 'libxenstore4');
    real = await startRealXenstored();
  });
  after(async () => real?.stop());
  clientSuite(() => ({ connect: async () => openAt(real.socketPath) }));
});

describe('libxenstore.so.4 via koffi, same suite, against colo-xl xenstored', function () {
  this.timeout(30_000);
  let dir: string;
  let daemon: CliDaemon | undefined;
  let socket: string;
  before(async () => {
    requireFile(LIB, 'libxenstore4');
    dir = mkdtempSync(join(tmpdir(), 'colo-xl-libxs-'));
    socket = join(dir, 'socket');
    // Its own process: libxenstore calls block this one while they wait for the reply.
    daemon = await startCliDaemon(socket);
  });
  after(async () => {
    await daemon?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  clientSuite(() => ({ connect: async () => openAt(socket) }));
});
