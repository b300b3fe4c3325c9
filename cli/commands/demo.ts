/**
 * `colo-xl demo [--json]`: COLO disk replication shown end to end on this machine in one
 * command — set-up, checkpoints, SIGKILL of the primary, failover, block-by-block check — with
 * a timeline and a verdict. Installs QEMU when missing and run as root, else says what to install.
 */
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import type { CliContext, Command } from '../command.js';
import { ColoXlError } from '../../lib/errors.js';
import { CliUsageError, runCommandLine, type Output } from '../options.js';
import { aptInstall, aptRootCommand } from '../lab/apt.js';
import { missingTools, runDemo, type DemoResult, type DemoStep } from '../lab/demo.js';

/** Why the demo's QEMUs run under TCG, or null when KVM is used (the same test as pickAccel). */
export function tcgReason(env: NodeJS.ProcessEnv = process.env, kvm = '/dev/kvm'): string | null {
  if (env.COLO_XL_ACCEL === 'tcg') return 'COLO_XL_ACCEL=tcg asks for it';
  if (env.COLO_XL_ACCEL === 'kvm') return null;
  try {
    closeSync(openSync(kvm, 'r+'));
    return null;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `${kvm} does not exist on this machine`;
    if (code === 'EACCES' || code === 'EPERM') {
      const gid = statSync(kvm).gid;
      const group = readFileSync('/etc/group', 'utf8').split('\n').map((l) => l.split(':')).find((f) => f[2] === String(gid))?.[0] ?? `gid ${gid}`;
      return `${kvm} is not open to uid ${process.getuid?.()} (join group ${group}: usermod -aG ${group} $USER, then log in again)`;
    }
    return `${kvm} cannot be opened (${code})`;
  }
}

const ms = (x: number): string => `${x.toFixed(1)} ms`;

function printStep(ctx: CliContext, s: DemoStep): void {
  const [first, ...more] = s.detail.split('\n');
  ctx.io.out(`${(s.atMs / 1000).toFixed(3).padStart(8)} s  ${s.name.padEnd(24)} ${ms(s.ms).padStart(10)}  ${first}\n`);
  for (const l of more) ctx.io.out(`${' '.repeat(48)}${l}\n`);
}

function printSummary(ctx: CliContext, r: DemoResult): void {
  const sorted = [...r.checkpointMs].sort((a, b) => a - b);
  ctx.io.out(
    `\nset-up      ${ms(r.setupMs)} (probe, NBD export, replication on both sides)\n` +
      `checkpoint  ${sorted.map(ms).join(', ')}\n` +
      `failover    ${ms(r.failoverMs)} from SIGKILL of the primary to the secondary serving reads\n` +
      `data        ${r.blocks.matching}/${r.blocks.checked} blocks match online; image ${r.identical ? 'identical' : 'DIFFERENT'} offline\n\n` +
      (r.pass
        ? `verdict: PASS — after failover the secondary's disk equals the primary's as of the last checkpoint, byte for byte\n`
        : `verdict: FAIL — blocks ${r.blocks.bad.join(', ') || '(none online)'} differ${r.identical ? '' : '; the offline image differs'}\n`),
  );
}

const HELP = `Usage: colo-xl demo [--json]

Show COLO disk replication end to end on this machine: two QEMUs, set-up, checkpoints, SIGKILL
of the primary, failover, and a block-by-block check, with a timeline and a verdict. Run as
root, it installs QEMU when it is missing; otherwise it prints the command to install it.

      --json       one JSON object: {"kind":"result","verdict":"pass"|"fail",...}
  -h, --help       print this help

Exit status: 0 pass, 1 fail (or QEMU missing), 2 usage.
`;

/** QEMU for the demo: installed when missing and run as root, else a failure naming the command. */
function ensureQemu(ctx: CliContext, out: Output): void {
  const missing = missingTools();
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((m) => m.pkg))];
  if (process.getuid?.() !== 0) {
    throw new ColoXlError(
      'DEMO_TOOLS_MISSING',
      `${missing.map((m) => `${m.path} (Debian package ${m.pkg})`).join(' and ')} missing.\nInstall as root with:  ${aptRootCommand(pkgs, ctx.env)}`,
    );
  }
  const err = aptInstall(pkgs, { onStep: (what) => out.json || ctx.io.out(`colo-xl demo: ${what}…\n`) });
  if (err !== null) throw new ColoXlError('DEMO_APT_FAILED', `apt-get install ${pkgs.join(' ')} failed:\n${err}`);
}

async function run(ctx: CliContext, argv: string[]): Promise<number> {
  return runCommandLine(ctx, { name: 'demo', help: HELP, options: { json: { type: 'boolean' } } }, argv, async ({ positionals }, out) => {
    if (positionals.length > 0) throw new CliUsageError(`unexpected argument ${positionals[0]}`);
    ensureQemu(ctx, out);
    const tcg = tcgReason(ctx.env);
    if (!out.json) {
      ctx.io.out('colo-xl demo: COLO disk replication between two QEMUs on this machine\n');
      ctx.io.out(tcg === null ? 'accelerator: KVM\n\n' : `accelerator: TCG (software emulation, slower), not KVM: ${tcg}\n\n`);
    }
    const r = await runDemo((s) => {
      if (!out.json) printStep(ctx, s);
    });
    const fields = {
      verdict: r.pass ? 'pass' : 'fail',
      accel: r.accel,
      ...(tcg === null ? {} : { tcgReason: tcg }),
      setupMs: r.setupMs,
      checkpointMs: r.checkpointMs,
      failoverMs: r.failoverMs,
      blocks: r.blocks,
      identical: r.identical,
      steps: r.steps,
    };
    if (out.json) out.emit('result', fields);
    else printSummary(ctx, r);
    return r.pass ? 0 : 1;
  });
}

export const demo: Command = {
  name: 'demo',
  usage: '[--json]',
  summary: 'Show COLO disk replication end to end on this machine: set-up, checkpoint, SIGKILL, failover, verification',
  run,
};
