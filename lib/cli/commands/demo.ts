/**
 * `colo-xl demo [--json]`: COLO disk replication shown end to end on this machine in one
 * command — set-up, checkpoints, SIGKILL of the primary, failover, block-by-block check — with
 * a timeline and a verdict. Installs QEMU when missing and run as root, else says what to install.
 */
import type { CliContext, Command } from '../command.js';
import { installTools, missingTools, runDemo, type DemoResult, type DemoStep } from '../../colo/demo.js';

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

async function run(ctx: CliContext, argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const unknown = argv.filter((a) => a !== '--json');
  if (unknown.length > 0) {
    ctx.io.err(`colo-xl demo: unknown argument ${unknown[0]}\nUsage: colo-xl demo [--json]\n`);
    return 2;
  }
  const missing = missingTools();
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map((m) => m.pkg))];
    if (process.getuid?.() === 0) {
      if (!json) ctx.io.out(`installing ${pkgs.join(' ')} (apt-get)…\n`);
      const err = installTools(pkgs);
      if (err !== null) {
        ctx.io.err(`colo-xl demo: apt-get install ${pkgs.join(' ')} failed:\n${err}\n`);
        return 1;
      }
    } else {
      ctx.io.err(
        `colo-xl demo: ${missing.map((m) => m.path).join(' and ')} missing.\n` +
          `Install them with:  sudo apt-get install ${pkgs.join(' ')}\n`,
      );
      return 1;
    }
  }
  if (!json) ctx.io.out('colo-xl demo: COLO disk replication between two QEMUs on this machine\n\n');
  try {
    const r = await runDemo((s) => {
      if (!json) printStep(ctx, s);
    });
    if (json) {
      ctx.io.out(
        JSON.stringify({
          verdict: r.pass ? 'pass' : 'fail',
          accel: r.accel,
          setupMs: r.setupMs,
          checkpointMs: r.checkpointMs,
          failoverMs: r.failoverMs,
          blocks: r.blocks,
          identical: r.identical,
          steps: r.steps,
        }) + '\n',
      );
    } else {
      printSummary(ctx, r);
    }
    return r.pass ? 0 : 1;
  } catch (e) {
    if (json) ctx.io.out(JSON.stringify({ verdict: 'error', error: (e as Error).message }) + '\n');
    ctx.io.err(`colo-xl demo: ${(e as Error).message}\n`);
    return 1;
  }
}

export const demo: Command = {
  name: 'demo',
  usage: '[--json]',
  summary: 'Show COLO disk replication end to end on this machine: set-up, checkpoint, SIGKILL, failover, verification',
  run,
};
