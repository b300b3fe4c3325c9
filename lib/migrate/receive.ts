/**
 * The destination end (`colo-xl migrate-receive`): seed 004's phase one. On "prepare" it creates
 * the disks at the source's sizes, starts QEMU with `-incoming defer` and exports every disk
 * writable over NBD; on "incoming" it listens for the memory stream; on "finish" it checks the
 * incoming migration completed and stops the NBD server. On "abort", on a closed control channel
 * or when its QEMU dies, it tears everything down: QEMU killed, the disks it created removed.
 */
import { rmSync, existsSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { QMPClient } from '../qmp/client.js';
import { freePort, QemuGroup, qemuImg } from '../qemu/process.js';
import { scopedLogger, type Logger } from '../util/log.js';
import { sleep } from '../util/wait.js';
import { readJsonLines, type ChannelMessage } from './channel.js';
import { addTlsCreds, setMigrationTls } from './tls.js';
import { MigrateFailure, type VmDescription } from './types.js';
import { vmArgv } from './vm.js';

/** A destination QEMU, however it was started. */
export interface LaunchedQemu {
  pid: number;
  qmp: QMPClient;
  qmpPath: string;
  /** Called once if the process ends. */
  onExit(cb: (why: string) => void): void;
  /** Kills it (teardown). */
  destroy(): Promise<void>;
  /** Lets it run on after the receiver returns. */
  release(): Promise<void>;
}

export type QemuLauncher = (argv: string[], runDir: string) => Promise<LaunchedQemu>;

/** A launcher of child processes of this one, in `qemus` (tests, the benchmark); the default one has its own group. */
export const childLauncher = (qemus: QemuGroup = new QemuGroup()): QemuLauncher => async (argv, runDir) => {
  const q = await qemus.spawn(`migrate-dest-${process.pid}-${Date.now()}`, argv, runDir);
  return {
    pid: q.pid,
    qmp: q.qmp,
    qmpPath: q.controlPath,
    onExit: (cb) => void q.proc.once('exit', (code, sig) => cb(`destination QEMU exited (${sig ?? code ?? '?'})`)),
    destroy: async () => {
      await q.kill('SIGKILL');
      await q.qmp.disconnect();
    },
    release: async () => undefined,
  };
};

export interface ReceiveOptions {
  runDir: string;
  /** Where the destination's images go (default: the source's paths, as on a second host). */
  diskDir?: string;
  tlsDir?: string;
  launch?: QemuLauncher;
  /** Sees the QEMU as soon as it started (tests use it to kill it). */
  onLaunched?: (q: LaunchedQemu) => void;
  /** What the destination does, step by step (`info`), scoped `migrate-receive`. */
  logger?: Logger;
  /** How long "finish" waits for the incoming migration to complete (default 30 s). */
  finishTimeoutMs?: number;
}

export interface ReceiveResult {
  outcome: 'running' | 'aborted';
  reason?: string;
  pid?: number;
  qmpPath?: string;
  status?: string;
  files?: string[];
}

/** Serves one migration on the control channel (`input` + `write`) until it ends either way. */
export async function migrateReceive(input: Readable, write: (line: string) => void, opts: ReceiveOptions): Promise<ReceiveResult> {
  const logger = scopedLogger(opts.logger, 'migrate-receive');
  const log = (line: string): void => logger.info(line);
  const launch = opts.launch ?? childLauncher();
  const created: string[] = [];
  let qemu: LaunchedQemu | null = null;
  let vm: VmDescription | null = null;
  let address = '127.0.0.1';
  let tls = false;
  let finished = false;
  let tornDown = false;

  const teardown = async (why: string): Promise<ReceiveResult> => {
    if (!tornDown) {
      tornDown = true;
      log(`tearing down: ${why}`);
      await qemu?.destroy().catch(() => undefined);
      for (const f of created) rmSync(f, { force: true });
    }
    return { outcome: 'aborted', reason: why };
  };

  const handlers: Record<string, (m: ChannelMessage) => Promise<ChannelMessage>> = {
    prepare: async (m) => {
      vm = m.vm as VmDescription;
      address = typeof m.address === 'string' ? m.address : address;
      tls = m.tls === true;
      if (tls && !opts.tlsDir) throw new MigrateFailure('MIGRATE_TLS_DIR', 'the source asked for TLS and migrate-receive has no --tls-dir');
      if (opts.diskDir) mkdirSync(opts.diskDir, { recursive: true });
      const files = vm.disks.map((d) => (opts.diskDir ? join(opts.diskDir, basename(d.file)) : d.file));
      for (const [i, d] of vm.disks.entries()) {
        const f = files[i]!;
        // never write over an image that exists: on one host it may be the source's own disk
        if (existsSync(f)) throw new MigrateFailure('MIGRATE_DISK_EXISTS', `${f} exists; refusing to overwrite it`);
        const back = d.backing ? ['-b', d.backing, '-F', d.backingFormat ?? d.format] : [];
        qemuImg('create', '-q', '-f', d.format, ...back, f, String(d.size));
        created.push(f);
      }
      qemu = await launch([...vmArgv(vm, files), '-incoming', 'defer'], opts.runDir);
      opts.onLaunched?.(qemu);
      qemu.onExit((why) => {
        if (!finished) {
          try {
            write(JSON.stringify({ notice: 'destination-died', reason: why }) + '\n');
          } catch {
            // the source may be gone already; the teardown below is what matters
          }
          void teardown(why);
        }
      });
      const tlsCreds = tls ? await addTlsCreds(qemu.qmp, opts.tlsDir!, 'server') : undefined;
      const nbdPort = await freePort();
      await qemu.qmp.execute('nbd-server-start', {
        addr: { type: 'inet', data: { host: address, port: String(nbdPort) } },
        ...(tlsCreds ? { 'tls-creds': tlsCreds } : {}),
      });
      for (const d of vm.disks) await qemu.qmp.execute('nbd-server-add', { device: d.device, writable: true });
      log(`prepared: QEMU pid ${qemu.pid}, NBD ${address}:${nbdPort}, ${vm.disks.length} disk(s)`);
      return { nbdPort, pid: qemu.pid, qmp: qemu.qmpPath, files };
    },
    incoming: async () => {
      if (!qemu) throw new MigrateFailure('MIGRATE_OUT_OF_ORDER', 'incoming before prepare');
      if (tls) await setMigrationTls(qemu.qmp, 'colo-xl-migrate-tls');
      const port = await freePort();
      const uri = `tcp:${address}:${port}`;
      // this must listen before the source's `migrate` connects
      await qemu.qmp.execute('migrate-incoming', { uri });
      return { uri };
    },
    finish: async () => {
      if (!qemu) throw new MigrateFailure('MIGRATE_OUT_OF_ORDER', 'finish before prepare');
      const deadline = Date.now() + (opts.finishTimeoutMs ?? 30_000);
      for (;;) {
        const st = await qemu.qmp.execute<{ status?: string }>('query-migrate');
        if (st.status === 'completed') break;
        if (st.status === 'failed' || Date.now() > deadline) throw new MigrateFailure('MIGRATE_INCOMING_FAILED', `incoming migration ${st.status ?? 'not started'}`);
        await sleep(10);
      }
      await qemu.qmp.execute('nbd-server-stop');
      const s = await qemu.qmp.execute<{ status: string }>('query-status');
      finished = true;
      return { status: s.status, pid: qemu.pid, qmp: qemu.qmpPath };
    },
  };

  return await new Promise<ReceiveResult>((resolve) => {
    let chain = Promise.resolve();
    let settled = false;
    const settle = (r: ReceiveResult): void => {
      if (!settled) {
        settled = true;
        resolve(r);
      }
    };
    readJsonLines(
      input,
      (m) => {
        chain = chain.then(async () => {
          if (settled) return;
          const op = String(m.op);
          if (op === 'abort') {
            const r = await teardown(typeof m.reason === 'string' ? m.reason : 'aborted by the source');
            write(JSON.stringify({ ok: true }) + '\n');
            settle(r);
            return;
          }
          const h = handlers[op];
          try {
            if (!h) throw new MigrateFailure('MIGRATE_UNKNOWN_REQUEST', `unknown request ${op}`);
            if (tornDown) throw new MigrateFailure('MIGRATE_TORN_DOWN', 'destination already torn down');
            const reply = await h(m);
            write(JSON.stringify({ ok: true, ...reply }) + '\n');
            if (op === 'finish' && qemu) {
              await qemu.release();
              settle({ outcome: 'running', pid: qemu.pid, qmpPath: qemu.qmpPath, status: String(reply.status), files: created.slice() });
            }
          } catch (e) {
            write(JSON.stringify({ ok: false, error: `${op}: ${(e as Error).message}` }) + '\n');
          }
        });
      },
      (why) => {
        void chain.then(async () => {
          if (!finished) settle(await teardown(why));
        });
      },
    );
  });
}
