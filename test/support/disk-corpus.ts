/**
 * A deterministic corpus of xl disk specs for the differential test against libxlutil 4.17:
 * the hand-picked entries (disk-corpus-fixed.ts), then a structured generator that assembles specs
 * from the pieces of the language (every 4.17 keyword and flag, positional slots with empties,
 * vdev:devtype, stacked deprecated prefixes, unknown keys, `target=` anywhere, colo-port atoi
 * quirks, odd whitespace, non-ASCII, multi-string disks), then fast-check random strings over the
 * scanner's alphabet.
 *
 * Specs containing "=\n" may jam libxlu's scanner, which must then run in a child process (about
 * 0.3 s each), so the generated part keeps at most `maxJamRisk` of them.
 */
import fc from 'fast-check';
import { fixedCorpus, type CorpusEntry } from './disk-corpus-fixed.js';

export type { CorpusEntry } from './disk-corpus-fixed.js';

/**
 * How big a corpus to make: `size` entries in all (at least the fixed ones) from `seed`, a
 * `randomShare` of the generated ones fast-check random strings, at most `maxJamRisk` of them
 * containing "=\n".
 */
export type CorpusOptions = Partial<Record<'size' | 'seed' | 'randomShare' | 'maxJamRisk', number>>;

export const DEFAULT_CORPUS_SIZE = 5000;
export const DEFAULT_CORPUS_SEED = 0x5eed_4170;

// mulberry32: small, fast, and the same everywhere.
function makeRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  constructor(readonly rnd: () => number) {}
  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }
  chance(p: number): boolean {
    return this.rnd() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

const PATHS = ['/x.img', '/dev/vg/lv', '/p.qcow2', '/srv/xen/d ï.img', 'rel/p', '', 'a:b', '/a=b', 'iqn.2001-04:s', '/😀', 'x\ny', '/t\tz'];
const FORMATS = ['raw', 'qcow', 'qcow2', 'vhd', 'qed', 'empty', '', 'bogus', 'QCOW2', 'raw ', 'qcow3'];
const VDEVS = ['xvda', 'hda', 'hdc', 'sda', 'xvdb', 'd0', '', 'xvda:cdrom', 'hdc:disk', 'hdc:floppy', 'xvda:', 'é', 'hd c'];
const ACCESS = ['r', 'ro', 'rw', 'w', '', 'x', 'RW', 'rw '];
const BACKENDTYPES = ['phy', 'tap', 'qdisk', 'standalone', '', 'nope', 'PHY'];
const SPECIFICATIONS = ['xen', 'virtio', '', 'bogus'];
const DEVTYPES = ['cdrom', 'disk', '', 'floppy', 'cdromx', 'cdrom '];
const COLO_PORTS = ['9000', '1', '0', '-0', '12abc', '-5', '+5', '0x10', '4294967297', '4294967296', '2147483648',
  '-2147483649', '99999999999999999999', '-99999999999999999999', ' 7', '\t8', '\n9', '7 ', 'abc', '', '٣', '00012',
  '\v5', '\r6', '+-5', '2147483647', '-2147483648', '1e3'];
const HOSTS = ['127.0.0.1', 'h', '', 'höst', '::1', 'a:b', '10.0.0.2'];
const SCRIPTS = ['block-drbd', '', '/etc/xen/scripts/block', 's p'];
const BACKENDS = ['dom0', '1', '', 'driver-domain', 'é'];
const NAMES = ['e1', '', 'export-0', 'x y'];

const VALUES: Record<string, readonly string[]> = {
  format: FORMATS,
  vdev: VDEVS,
  access: ACCESS,
  backend: BACKENDS,
  backendtype: BACKENDTYPES,
  specification: SPECIFICATIONS,
  devtype: DEVTYPES,
  script: SCRIPTS,
  'colo-host': HOSTS,
  'colo-port': COLO_PORTS,
  'colo-export': NAMES,
  'active-disk': PATHS,
  'hidden-disk': PATHS,
};
const KEYS = Object.keys(VALUES);
// Real flags first, then words that are keywords only in other Xen versions.
const FLAGS = ['cdrom', 'discard', 'no-discard', 'colo', 'no-colo', 'direct-io-safe',
  'trusted', 'untrusted', 'grant_usage=1', 'grant_usage=0'];
const PREFIXES = ['raw', 'qcow', 'qcow2', 'vhd', 'iscsi', 'nbd', 'enbd', 'drbd', 'tapdisk', 'tap', 'tap2', 'aio',
  'ioemu', 'file', 'phy', 'foo', 'xvda', 'a1'];
const UNKNOWN_KEYS = ['foo', 'transport', 'trusted', 'grant-usage', 'a-b', 'x9', 'colo-foo', 'vdevx', 'formats', 'Foo', 'q'];
const UNKNOWN_VALUES = ['', 'b', 'bar', 'é', '=', ' ', '1', '\n'];
const GARBAGE = ['=', '=x', '==', 'é', ' ', ':', 'a=b=c', '\t', 'cdromx', 'colo-port', 'format'];
const SEPARATORS = [',', ',', ',', ',', ',', ',', ',,', ', ', ',\t', ',\n', ' ,', '\n', ''];
const WHITESPACE = [' ', '\t', '\n', '  ', ' \n', '\t\t', '\r', '\f', '\v'];

// How many leading entries of each pool are valid values (the rest are edge cases or bad).
const GOOD: Record<string, number> = {
  format: 6, vdev: 6, access: 5, backend: 4, backendtype: 4, specification: 2, devtype: 2, script: 3,
  'colo-host': 3, 'colo-port': 2, 'colo-export': 3, 'active-disk': 5, 'hidden-disk': 5,
};

function keyValue(g: Gen, key = g.pick(KEYS), good = false): string {
  const pool = VALUES[key]!;
  const value = good ? pool[g.int(GOOD[key] ?? pool.length)]! : g.pick(pool);
  return `${key}=${value}`;
}

function prefixChain(g: Gen): string {
  const n = 1 + g.int(3);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(g.pick(PREFIXES));
  return `${parts.join(':')}:${g.pick(PATHS)}`;
}

function positional(g: Gen, slot: number): string {
  switch (slot) {
    case 0: return g.pick(PATHS);
    case 1: return g.pick(FORMATS);
    case 2: return g.pick(VDEVS);
    default: return g.pick(ACCESS);
  }
}

function piece(g: Gen): string {
  const r = g.int(100);
  if (r < 40) return keyValue(g);
  if (r < 55) return g.pick(FLAGS);
  if (r < 65) return positional(g, g.int(5));
  if (r < 72) return prefixChain(g);
  if (r < 82) return `${g.pick(UNKNOWN_KEYS)}=${g.pick(UNKNOWN_VALUES)}`;
  if (r < 90) return `target=${g.pick(PATHS)}${g.chance(0.3) ? ',' + keyValue(g) : ''}`;
  return g.pick(GARBAGE);
}

// A disk that is mostly well formed: the shapes users write, with one or two things off.
function plausiblePieces(g: Gen): string[] {
  const style = g.int(3);
  if (style === 0) {
    const n = 1 + g.int(4);
    const out: string[] = [];
    if (g.chance(0.4)) out.push(prefixChain(g));
    for (let i = out.length; i < n; i++) out.push(positional(g, i));
    return out;
  }
  const good = g.chance(0.7);
  const out = [keyValue(g, 'vdev', good)];
  const extra = g.int(5);
  for (let i = 0; i < extra; i++) out.push(g.chance(0.6) ? keyValue(g, g.pick(KEYS), good) : g.pick(FLAGS.slice(0, 6)));
  if (style === 1) {
    for (const key of ['colo-host', 'colo-port', 'colo-export', 'active-disk', 'hidden-disk']) {
      out.push(keyValue(g, key, good || g.chance(0.5)));
    }
    out.push('colo');
  }
  shuffle(g, out);
  if (g.chance(0.8)) out.push(`target=${g.pick(PATHS)}`);
  return out;
}

function shuffle<T>(g: Gen, xs: T[]): void {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = g.int(i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
}

function mutate(g: Gen, s: string): string {
  if (s.length === 0) return s;
  const at = g.int(s.length + 1);
  switch (g.int(3)) {
    case 0: return s.slice(0, at) + g.pick(WHITESPACE) + s.slice(at);
    case 1: return s.slice(0, at) + s.slice(at + 1);
    default: return s.slice(0, at) + g.pick([',', '=', ':', 'é']) + s.slice(at);
  }
}

function join(g: Gen, pieces: string[]): string {
  let s = g.chance(0.1) ? g.pick(WHITESPACE) : '';
  pieces.forEach((p, i) => {
    if (i > 0) s += g.chance(0.85) ? ',' : g.pick(SEPARATORS);
    if (i > 0 && g.chance(0.08)) s += g.pick(WHITESPACE);
    s += p;
  });
  if (g.chance(0.1)) s += g.chance(0.5) ? ',' : g.pick(WHITESPACE);
  return s;
}

function structuredEntry(g: Gen): CorpusEntry {
  let pieces: string[];
  let kind: string;
  if (g.chance(0.55)) {
    pieces = plausiblePieces(g);
    kind = 'structured';
  } else {
    pieces = Array.from({ length: 1 + g.int(6) }, () => piece(g));
    if (g.chance(0.5)) pieces.splice(g.int(pieces.length + 1), 0, keyValue(g, 'vdev', true));
    kind = 'mixed';
  }
  if (g.chance(0.1) && pieces.length > 0) pieces.splice(g.int(pieces.length), 0, g.pick(pieces)); // respecify
  if (g.chance(0.2) && pieces.length > 1) {
    // several strings, one disk: cut the pieces into 2-4 groups
    const groups = Math.min(pieces.length, 2 + g.int(3));
    const specs: string[] = [];
    for (let i = 0; i < groups; i++) {
      const from = Math.floor((i * pieces.length) / groups);
      const to = Math.floor(((i + 1) * pieces.length) / groups);
      specs.push(join(g, pieces.slice(from, to)));
    }
    if (g.chance(0.1)) specs.splice(g.int(specs.length + 1), 0, '');
    return { specs, kind: `${kind} multi-string` };
  }
  let s = join(g, pieces);
  if (g.chance(0.12)) s = mutate(g, s);
  return { specs: [s], kind };
}

const ALPHABET = [...'abcdefghiklmnopqrstuvwxy', ...'0123456789', ...',=: /-_.', '\t', '\n', '\r', 'é', 'ü', '😀', '\u00a0'];
const TOKENS = [...KEYS.map((k) => `${k}=`), ...FLAGS, ...PREFIXES.map((p) => `${p}:`), 'target=', ',', ',', ',', '=',
  ':', '/', ' ', '\t', '\n', 'x', 'xvda', 'raw', 'qcow2', 'r', 'w', 'rw', 'cdrom', 'disk', '12', '-', 'é', 'foo='];

function randomEntries(count: number, seed: number): CorpusEntry[] {
  const chars = fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 40 });
  const tokens = fc.array(fc.constantFrom(...TOKENS), { maxLength: 14 }).map((t) => t.join(''));
  const spec = fc.oneof(chars, tokens);
  const entry = fc.oneof(
    { weight: 5, arbitrary: spec.map((s) => [s]) },
    { weight: 1, arbitrary: fc.array(spec, { minLength: 2, maxLength: 4 }) },
  );
  return fc.sample(entry, { seed, numRuns: count }).map((specs) => ({ specs, kind: 'random' }));
}

const jamRisk = (e: CorpusEntry): boolean => e.specs.some((s) => s.includes('=\n'));

/** The corpus: fixed entries, then structured ones, then random ones; same options, same corpus. */
export function generateDiskCorpus(options: CorpusOptions = {}): CorpusEntry[] {
  const size = options.size ?? DEFAULT_CORPUS_SIZE;
  const seed = options.seed ?? DEFAULT_CORPUS_SEED;
  const randomShare = options.randomShare ?? 0.3;
  let jamBudget = options.maxJamRisk ?? 12;
  const out = fixedCorpus();
  const generated = Math.max(0, size - out.length);
  const wantRandom = Math.round(generated * randomShare);
  const seen = new Set(out.map((e) => JSON.stringify(e.specs)));
  const keep = (e: CorpusEntry): boolean => {
    const key = JSON.stringify(e.specs);
    if (seen.has(key)) return false;
    seen.add(key);
    if (!jamRisk(e)) return true;
    if (jamBudget <= 0) return false;
    jamBudget--;
    return true;
  };
  const g = new Gen(makeRng(seed));
  while (out.length < size - wantRandom) {
    const e = structuredEntry(g);
    if (keep(e)) out.push(e);
  }
  let round = 0;
  while (out.length < size) {
    const batch = randomEntries(size - out.length, (seed + round++) | 0);
    for (const e of batch) if (out.length < size && keep(e)) out.push(e);
  }
  return out;
}
