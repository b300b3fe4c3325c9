/**
 * QEMU `-drive` option strings read back into block trees shaped like lib/libvirt/block-tree.ts:
 * dotted keys (`file.backing.file.filename`) become nested nodes, protocol leaves become the
 * format node's `filename`, frontend options (if, index, media, cache, readonly, top-id) drop out.
 */
import type { BlockTreeNode } from '../../../lib/libvirt/block-tree.js';

/** QEMU's option splitting: `,` separates, `,,` is a literal comma. */
export function splitDriveOptions(s: string): [string, string][] {
  const out: [string, string][] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === ',') {
      if (s[i + 1] === ',') {
        cur += ',';
        i++;
        continue;
      }
      out.push(pair(cur));
      cur = '';
    } else cur += s[i];
  }
  out.push(pair(cur));
  return out;
}
function pair(kv: string): [string, string] {
  const eq = kv.indexOf('=');
  if (eq < 0) throw new Error(`drive option without value: ${kv}`);
  return [kv.slice(0, eq), kv.slice(eq + 1)];
}

type Tree = { [k: string]: string | Tree };

function nest(opts: [string, string][]): Tree {
  const root: Tree = {};
  for (const [k, v] of opts) {
    const path = k.split('.');
    let t = root;
    for (const p of path.slice(0, -1)) {
      const next = t[p];
      if (typeof next === 'string') throw new Error(`drive option ${k} under a plain value`);
      t = t[p] = next ?? {};
    }
    const last = path[path.length - 1]!;
    if (last in t) throw new Error(`drive option ${k} given twice`);
    t[last] = v;
  }
  return root;
}

const FRONTEND = new Set(['if', 'index', 'media', 'cache', 'readonly', 'top-id', 'id', 'format', 'driver', 'file', 'children', 'backing']);

function node(t: Tree): BlockTreeNode {
  const driver = (t.driver ?? t.format) as string | undefined;
  if (driver === undefined) throw new Error(`block node without a driver: ${JSON.stringify(t)}`);
  const n: BlockTreeNode = { driver, opts: {}, children: {} };
  if (typeof t.id === 'string') n.id = t.id;
  const file = t.file;
  if (typeof file === 'string') n.filename = file;
  else if (file !== undefined) {
    const keys = Object.keys(file);
    // a protocol leaf: only filename (and at most the file driver) below the format driver
    if (keys.every((k) => k === 'filename' || (k === 'driver' && file.driver === 'file'))) n.filename = file.filename as string;
    else n.children.file = node(file);
  }
  if (typeof t.children === 'object') {
    for (const [i, c] of Object.entries(t.children)) {
      if (typeof c === 'string') throw new Error(`children.${i} is a plain value`);
      n.children[`children.${i}`] = node(c);
    }
  }
  if (typeof t.backing === 'string') n.children.backing = { driver: '', ref: t.backing, opts: {}, children: {} };
  else if (t.backing !== undefined) n.children.backing = node(t.backing);
  for (const [k, v] of Object.entries(t)) {
    if (!FRONTEND.has(k) && typeof v === 'string') n.opts[k] = v;
  }
  return n;
}

/** One tree per `-drive` in an argument list. */
export function driveTrees(args: readonly string[]): BlockTreeNode[] {
  const out: BlockTreeNode[] = [];
  args.forEach((a, i) => {
    if (a === '-drive') out.push(node(nest(splitDriveOptions(args[i + 1]!))));
  });
  return out;
}
