import { createHash } from 'node:crypto';
import { formatPerm } from '../../lib/xenstore/messages.js';
import type { NodeStore } from '../../lib/xenstore/server/tree.js';

/** Node count and a hash of every node (path, perms, value, child order), in walk order. */
export function treeDigest(store: NodeStore): { nodes: number; digest: string } {
  const h = createHash('sha256');
  let nodes = 0;
  for (const [p, n] of store.walk()) {
    h.update(`${p} ${n.perms.map(formatPerm).join(',')} ${n.value.toString('base64')} [${n.children.join(',')}]\n`);
    nodes++;
  }
  return { nodes, digest: h.digest('hex') };
}
