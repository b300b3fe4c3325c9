/**
 * Load time of the library's entry points, as a management stack meets it: a fresh `node`, its
 * ES module loader already warm (a data: module imported first), then `import(spec)` timed.
 * dist/ (tools/bundle.mjs: one module per concept) side by side with tsc's one module per source
 * file, built for the comparison into a scratch directory. Target (issue 13): `colo-xl/xenstore`
 * in ≤ 15 ms.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = 11;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** One fresh process: the loader warmed, then the import timed, in ms. */
function loadOnce(spec: string): number {
  const r = spawnSync(process.execPath, [join(REPO, 'bench/load-probe.mjs'), spec], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`import(${spec}) failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}

export async function run(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'colo-xl-load-'));
  try {
    // tsc's 1:1 output of the same sources, with node_modules beside it for nearley and moo.
    execFileSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', REPO, '--outDir', scratch, '--declaration', 'false', '--sourceMap', 'false'], { stdio: 'inherit' });
    symlinkSync(join(REPO, 'node_modules'), join(scratch, 'node_modules'));
    const cases = [
      { name: 'colo-xl/xenstore', bundled: 'colo-xl/xenstore', perFile: pathToFileURL(join(scratch, 'lib/xenstore/index.js')).href, target: 15 },
      { name: 'colo-xl', bundled: 'colo-xl', perFile: pathToFileURL(join(scratch, 'lib/index.js')).href },
    ];
    for (const c of cases) {
      const b: number[] = [];
      const f: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        b.push(loadOnce(c.bundled));
        f.push(loadOnce(c.perFile));
      }
      const mb = median(b);
      const mf = median(f);
      const verdict = c.target === undefined ? '' : `   target ≤ ${c.target} ms ${mb <= c.target ? 'met' : 'NOT met'}`;
      console.log(`import ${c.name.padEnd(17)} median of ${ROUNDS}: bundled ${mb.toFixed(1)} ms   one module per file ${mf.toFixed(1)} ms   ratio ${(mf / mb).toFixed(1)}x${verdict}`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
