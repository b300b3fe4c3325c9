/**
 * Cold-start wall time of `colo-xl -N create <cfg>` (node bin/colo-xl.js, built into dist/)
 * against Xen 4.17's real `xl -N create` on the same config (under the test shims, talking to a
 * real xenstored), run alternately, ROUNDS times each; medians side by side. Also the in-process
 * time of parse + JSON, and of a bare `node -e 0` as the floor of any Node CLI on this machine.
 * Targets (issue 5): under 150 ms, and within 10× of xl.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { domainConfigToJson } from '../lib/libxl/json.js';
import { parseConfigData } from '../lib/xl/parse.js';
import { startRealXl } from '../test/support/real-xl.js';
import { buildShim } from '../test/support/real-xenstored.js';
import { CLI_BIN, hasBuild } from '../test/support/cli.js';

const ROUNDS = 15;

const CONFIG = `name = "colo-bench"
type = "hvm"
uuid = "2014b759-99aa-4bdf-b97e-40548f7a9903"
memory = 1024
vcpus = 2
disk = [ 'vdev=hda,format=qcow2,colo,colo-host=127.0.0.1,colo-port=9000,colo-export=e1,active-disk=/srv/a.qcow2,hidden-disk=/srv/h.qcow2,target=/srv/p.qcow2',
         '/srv/data.img,raw,xvdb,rw', ',,hdc:cdrom,r' ]
device_model_version = "qemu-xen"
vnc = 1
serial = "pty"
boot = "dc"
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function wall(cmd: string, args: string[], env?: NodeJS.ProcessEnv): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

export async function run(): Promise<void> {
  const cli = CLI_BIN;
  if (!hasBuild()) throw new Error('dist/ is missing: run `npm run build` first');
  const dir = mkdtempSync(join(tmpdir(), 'colo-xl-bench-'));
  const cfg = join(dir, 'vm.cfg');
  writeFileSync(cfg, CONFIG);
  const xl = await startRealXl();
  try {
    // The real xl's environment, reproduced for spawnSync (startRealXl's run() is async).
    const xlEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      LD_PRELOAD: `${buildShim('xs-nohv-shim')} ${buildShim('xl-nohv-shim')}`,
      XENSTORED_PATH: xl.xenstored.socketPath,
      XS_SHIM_DIR: xl.xenstored.rundir,
    };
    const ours: number[] = [];
    const theirs: number[] = [];
    const bare: number[] = [];
    wall(process.execPath, [cli, '-N', 'create', cfg]);
    for (let i = 0; i < ROUNDS; i++) {
      ours.push(wall(process.execPath, [cli, '-N', 'create', cfg]));
      theirs.push(wall('/usr/lib/xen-4.17/bin/xl', ['-N', 'create', cfg], xlEnv));
      bare.push(wall(process.execPath, ['-e', '0']));
    }
    const t = process.hrtime.bigint();
    const N = 200;
    for (let i = 0; i < N; i++) domainConfigToJson(parseConfigData(cfg, CONFIG, { err: () => undefined }));
    const inProc = Number(process.hrtime.bigint() - t) / 1e6 / N;
    const o = median(ours);
    const x = median(theirs);
    console.log(`cold start, median of ${ROUNDS}:  colo-xl -N create ${o.toFixed(1)} ms   xl -N create ${x.toFixed(1)} ms   ratio ${(o / x).toFixed(1)}x`);
    console.log(`node -e 0 on this machine: ${median(bare).toFixed(1)} ms (the floor for any Node CLI)`);
    console.log(`in-process parse_config_data + to_json: ${(inProc * 1000).toFixed(0)} µs per config`);
    console.log(`targets: < 150 ms ${o < 150 ? 'met' : 'NOT met'}; within 10x of xl ${o / x <= 10 ? 'met' : 'NOT met'}`);
  } finally {
    await xl.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
