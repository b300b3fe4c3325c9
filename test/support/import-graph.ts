/**
 * The import graph of lib/ and cli/, read from the sources (static `import`/`export ... from` and
 * `import()` with a literal, type-only ones included: a type cycle is still a design cycle), with
 * the two checks the layout promises: no cycle, and no import up the house (see LAYERS).
 *
 * Run directly (`node --import tsx test/support/import-graph.ts`) it prints both lists.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Rank of each part: a module may import its own part, and parts of lower or equal rank (equal:
 * siblings, which the cycle check still polices). The CLI sits on top and nothing in lib/ may
 * reach it; lib/index.ts only re-exports.
 */
export const LAYERS: Record<string, number> = {
  'lib/errors.ts': 0,
  'lib/util': 0,
  'lib/json': 0,
  'grammar': 1,
  'lib/xenstore': 1,
  'lib/qmp': 1,
  'lib/tls': 1,
  'lib/native': 2,
  'lib/qemu': 2,
  'lib/stream': 2,
  'lib/libxl': 3,
  'lib/xlu': 4,
  'lib/xl': 5,
  'lib/colo': 6,
  'lib/migrate': 6,
  'lib/libvirt': 6,
  'lib/ha': 7,
  'lib/index.ts': 9,
  'cli': 10,
};

/** The part a file belongs to: the longest LAYERS key that is a prefix of its path. */
export function partOf(file: string): string | null {
  let best: string | null = null;
  for (const k of Object.keys(LAYERS)) {
    if ((file === k || file.startsWith(`${k}/`)) && (!best || k.length > best.length)) best = k;
  }
  return best;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const SPEC = /(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*'([^']+)'|import\(\s*'([^']+)'\s*\)|^\s*import\s*'([^']+)'/gm;

/** file -> the repository files it imports (relative specifiers only). */
export function importGraph(dirs = ['lib', 'cli']): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of dirs.flatMap(sources)) {
    const text = readFileSync(join(ROOT, f), 'utf8');
    const deps: string[] = [];
    for (const m of text.matchAll(SPEC)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (!spec.startsWith('.')) continue;
      deps.push(normalize(join(dirname(f), spec)).replace(/\.js$/, '.ts'));
    }
    g.set(f, deps);
  }
  return g;
}

/** Every cycle, as the strongly connected components of more than one file (or a self-import). */
export function cycles(g: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (g.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of g.keys()) if (!idx.has(v)) visit(v);
  return out;
}

/** Imports from a part to a higher-ranked one, or out of lib/ and cli/ into anything unranked. */
export function upwardImports(g: Map<string, string[]>): string[] {
  const out: string[] = [];
  for (const [f, deps] of g) {
    const from = partOf(f);
    for (const d of deps) {
      const to = partOf(d);
      if (from === null || to === null) out.push(`${f} -> ${d} (unranked)`);
      else if (from !== to && LAYERS[to]! > LAYERS[from]!) out.push(`${f} -> ${d}`);
    }
  }
  return out;
}

if (process.argv[1] && relative(process.argv[1], fileURLToPath(import.meta.url)) === '') {
  const g = importGraph();
  const c = cycles(g);
  const u = upwardImports(g);
  console.log(`${g.size} modules; ${c.length} cycles; ${u.length} upward imports`);
  for (const s of c) console.log(`cycle: ${s.join(' ')}`);
  for (const e of u) console.log(`upward: ${e}`);
}
