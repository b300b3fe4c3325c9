import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { domainCreateNew, domainCreateRestore } from '../../lib/libxl/create.js';
import { coloBlockTrees, type BlockTreeNode, type ColoDiskTrees } from '../../lib/libvirt/block-tree.js';
import { domainConfigToXml } from '../../lib/libvirt/domxml.js';
import { xlCfgString } from '../../lib/xlu/format.js';
import { fakeStats } from '../support/fake-stat.js';
import { commonArgs, pickAccel, qemuImg, requireQemu, startQemu, stopAllQemus } from '../support/qemu.js';
import { blockGraph, type BlockGraph, type BlockNode } from '../dm/support/block-graph.js';
import { parseCfg } from './support/cfg.js';
import { driveTrees } from './support/drive-tree.js';
import { completeColo, coloKeys, type GenColo } from './support/gen.js';

/** vdevs the device model emulates with COLO (IDE 0–3 and SCSI), on distinct IDE/SCSI slots. */
const EMULATED = ['hda', 'hdb', 'xvdc', 'hdd', 'sda', 'sdb'];
const FORMATS = ['raw', 'qcow2', 'qcow', 'vhd', 'qed'] as const;

function devicesModelArgs(cfg: string, role: 'primary' | 'secondary'): string[] {
  const d = parseCfg(cfg);
  const opts = { domid: 1, stat: () => fakeStats('file') };
  const c = role === 'primary' ? domainCreateNew(d, opts) : domainCreateRestore(d, { checkpointed_stream: 'colo' }, opts);
  return c.dm.args;
}

/** The XML's trees for one role, in device-model order, ids the builder makes up left out. */
function expected(trees: ColoDiskTrees[], role: 'primary' | 'secondary'): BlockTreeNode[] {
  return role === 'primary' ? trees.map((t) => t.primary) : trees.flatMap((t) => [t.base, t.secondary]);
}
function actual(args: string[], role: 'primary' | 'secondary'): BlockTreeNode[] {
  const all = driveTrees(args);
  if (role === 'primary') return all.filter((t) => t.driver === 'quorum');
  const reps = all.filter((t) => t.driver === 'replication');
  return reps.flatMap((r) => {
    const { id: _topId, ...rest } = r;
    const base = all.find((b) => b.id === r.children.file!.children.backing!.children.backing!.ref);
    assert.ok(base, `no base drive for ${JSON.stringify(r)}`);
    return [base, rest];
  });
}

const genColoConfig = fc
  .record({
    vdevs: fc.shuffledSubarray(EMULATED, { minLength: 1, maxLength: 4 }),
    disks: fc.array(
      fc.record({
        colo: fc.option(completeColo, { freq: 3 }),
        format: fc.constantFrom(...FORMATS),
        path: fc.stringMatching(/^\/[A-Za-z0-9 ,=._-]{1,20}$/),
      }),
      { minLength: 4, maxLength: 4 },
    ),
  })
  .map(({ vdevs, disks }) => {
    const specs = vdevs.map((v, i) => {
      const d = disks[i]!;
      const colo: GenColo | null = d.colo && { ...d.colo, exportName: `${d.colo.exportName}-${v}` };
      return [`format=${d.format}`, `vdev=${v}`, 'access=rw', ...(colo ? coloKeys(colo) : []), `target=${d.path}`].join(',');
    });
    return `name = "g"\ntype = "hvm"\ndisk = [ ${specs.map(xlCfgString).join(', ')} ]\n`;
  });

describe('libvirt domain XML: the disk trees match the device-model builder\'s block graphs', () => {
  it('node by node, over generated COLO configs, as primary and as secondary', () => {
    let compared = 0;
    fc.assert(
      fc.property(genColoConfig, (cfg) => {
        const trees = coloBlockTrees(domainConfigToXml(parseCfg(cfg)));
        for (const role of ['primary', 'secondary'] as const) {
          const args = devicesModelArgs(cfg, role);
          assert.deepEqual(actual(args, role), expected(trees, role), `${role}\n${cfg}\n${args.join('\n')}`);
          compared += trees.length;
        }
      }),
      { numRuns: 200, seed: 77 },
    );
    assert.ok(compared > 300, `only ${compared} trees compared`);
  });
});

describe(`libvirt domain XML: the trees match QEMU's own block graph (query-named-block-nodes, accel ${pickAccel()})`, function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    requireQemu();
    dir = mkdtempSync(join(tmpdir(), 'colo-xl-domxml-qemu-'));
  });
  after(async () => {
    await stopAllQemus();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Checks a QEMU node against an XML tree node, children included. */
  function same(g: BlockGraph, n: BlockNode, t: BlockTreeNode, where: string): void {
    if (t.ref !== undefined) {
      assert.equal(n.name, g.device(t.ref).root, `${where}: the reference ${t.ref} is the node of drive ${t.ref}`);
      return;
    }
    assert.equal(n.drv, t.driver, `${where}: driver`);
    if (t.filename !== undefined) assert.equal(g.pathOf(n.name), t.filename, `${where}: image`);
    for (const [edge, c] of Object.entries(t.children)) same(g, g.follow(n.name, edge), c, `${where}/${edge}`);
  }

  for (const role of ['primary', 'secondary'] as const) {
    it(`a two-disk COLO ${role} (IDE qcow2 + SCSI raw)`, async () => {
      const img = (name: string, fmt: string): string => {
        const p = join(dir, `${role}-${name}`);
        qemuImg('create', '-q', '-f', fmt, p, '16M');
        return p;
      };
      const disk = (vdev: string, fmt: string, exp: string, port: number): string =>
        `format=${fmt},vdev=${vdev},access=rw,colo,colo-host=127.0.0.1,colo-port=${port},colo-export=${exp},` +
        `active-disk=${img(`${vdev}-a.qcow2`, 'qcow2')},hidden-disk=${img(`${vdev}-h.qcow2`, 'qcow2')},target=${img(`${vdev}.img`, fmt)}`;
      const cfg = `name = "g"\ntype = "hvm"\ndisk = [ ${[disk('hda', 'qcow2', 'e1', 9000), disk('sdb', 'raw', 'e2', 9001)].map(xlCfgString).join(', ')} ]\n`;
      const trees = coloBlockTrees(domainConfigToXml(parseCfg(cfg)));
      assert.equal(trees.length, 2);
      const args = devicesModelArgs(cfg, role);
      const m = args.indexOf('-m');
      const early = args.includes('lsi53c895a') ? ['-device', 'lsi53c895a'] : [];
      const q = await startQemu(`domxml-${role}`, [...commonArgs(pickAccel()), ...early, ...args.slice(m + 2)], dir);
      let g: BlockGraph;
      try {
        g = await blockGraph(q.qmp);
      } finally {
        await q.stop();
      }
      for (const t of trees) {
        if (role === 'primary') {
          same(g, g.node(g.device(t.primary.id!).root!), t.primary, `${t.target} primary`);
        } else {
          same(g, g.node(g.device(t.base.id!).root!), t.base, `${t.target} base`);
          const top = g.devices.find((d) => d.root && g.node(d.root).drv === 'replication' &&
            g.follow(d.root, 'file', 'backing', 'backing').name === g.device(t.base.id!).root);
          assert.ok(top, `no replication drive over ${t.base.id}`);
          same(g, g.node(top.root!), t.secondary, `${t.target} secondary`);
        }
      }
      // nothing in QEMU's graph that the XML does not describe: every format node is accounted for
      const formats = [...g.nodes.values()].filter((n) => n.drv !== 'file').length;
      assert.equal(formats, role === 'primary' ? 4 : 8, [...g.nodes.values()].map((n) => `${n.name}:${n.drv}`).join(' '));
    });
  }
});
