/**
 * QEMU's block graph over QMP, for checking what a -drive built: devices (query-block), node
 * details (query-named-block-nodes) and the named edges between nodes (x-debug-query-block-graph).
 */
import type { QMPClient } from '../../../lib/qmp/client.js';

export interface BlockNode {
  name: string;
  drv: string;
  /** The node's filename as QEMU reports it (a path, or a json: description). */
  file: string;
  ro: boolean;
  /** Child node names by edge ("file", "backing", "children.0", …). */
  children: Record<string, string>;
}

export interface BlockDevice {
  device: string;
  /** Root node of the inserted medium; undefined for an empty drive. */
  root?: string;
}

export interface BlockGraph {
  devices: BlockDevice[];
  nodes: Map<string, BlockNode>;
  device(name: string): BlockDevice;
  node(name: string): BlockNode;
  /** Follows edges from a node: e.g. follow(root, 'file', 'backing'). */
  follow(from: string, ...edges: string[]): BlockNode;
  /** The path of the file a format node reads (its "file" child's filename). */
  pathOf(nodeName: string): string;
}

interface QueryBlockEntry {
  device: string;
  inserted?: { 'node-name': string };
}
interface NamedNode {
  'node-name': string;
  drv: string;
  file: string;
  ro: boolean;
}
interface GraphInfo {
  nodes: { id: number; type: string; name: string }[];
  edges: { parent: number; child: number; name: string }[];
}

export async function blockGraph(qmp: QMPClient): Promise<BlockGraph> {
  const devices = (await qmp.execute<QueryBlockEntry[]>('query-block')).map((b) => ({
    device: b.device,
    root: b.inserted?.['node-name'],
  }));
  const named = await qmp.execute<NamedNode[]>('query-named-block-nodes', { flat: true });
  const graph = await qmp.execute<GraphInfo>('x-debug-query-block-graph');
  const nodes = new Map<string, BlockNode>();
  for (const n of named) nodes.set(n['node-name'], { name: n['node-name'], drv: n.drv, file: n.file, ro: n.ro, children: {} });
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  for (const e of graph.edges) {
    const parent = byId.get(e.parent);
    const child = byId.get(e.child);
    if (parent?.type === 'block-driver' && child) nodes.get(parent.name)!.children[e.name] = child.name;
  }
  const g: BlockGraph = {
    devices,
    nodes,
    device(name) {
      const d = devices.find((x) => x.device === name);
      if (!d) throw new Error(`no block device ${name} (have ${devices.map((x) => x.device).join(', ')})`);
      return d;
    },
    node(name) {
      const n = nodes.get(name);
      if (!n) throw new Error(`no block node ${name}`);
      return n;
    },
    follow(from, ...edges) {
      let n = g.node(from);
      for (const e of edges) {
        const c = n.children[e];
        if (!c) throw new Error(`node ${n.name} (${n.drv}) has no ${e} child (has ${Object.keys(n.children).join(', ')})`);
        n = g.node(c);
      }
      return n;
    },
    pathOf(nodeName) {
      return g.follow(nodeName, 'file').file;
    },
  };
  return g;
}
