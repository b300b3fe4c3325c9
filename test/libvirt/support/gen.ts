/**
 * Generated xl.cfg files for the libvirt converter tests: disks written the ways people write
 * them (positional or key=value, deprecated prefixes), with and without complete COLO key sets,
 * paths with characters XML and xl.cfg must escape.
 */
import fc from 'fast-check';
import { xlCfgString } from '../../../lib/xlu/format.js';

const VDEVS = ['hda', 'hdb', 'hdc', 'hdd', 'sda', 'sdb', 'sdc', 'xvda', 'xvdb', 'xvdc', 'xvde'];

/** A value with no comma (the disk scanner ends values there) and nothing a path must avoid. */
const word = fc.stringMatching(/^[A-Za-z0-9._-][A-Za-z0-9._&<>'"@:-]{0,10}$/);
const absPath = fc
  .array(fc.stringMatching(/^[A-Za-z0-9._&<>'" @-]{1,8}$/), { minLength: 1, maxLength: 3 })
  .map((parts) => '/' + parts.join('/'));
/** A QEMU id, so the device-model builder takes the export name. */
export const qemuIdArb = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,8}$/);

export interface GenColo {
  host: string;
  port: number;
  exportName: string;
  active: string;
  hidden: string;
}

export const completeColo: fc.Arbitrary<GenColo> = fc.record({
  host: fc.oneof(fc.constant('127.0.0.1'), fc.ipV4(), word),
  port: fc.integer({ min: 1, max: 65535 }),
  exportName: qemuIdArb,
  active: absPath.map((p) => `${p}.qcow2`),
  hidden: absPath.map((p) => `${p}.qcow2`),
});

export function coloKeys(c: GenColo): string[] {
  return [
    'colo', `colo-host=${c.host}`, `colo-port=${c.port}`, `colo-export=${c.exportName}`,
    `active-disk=${c.active}`, `hidden-disk=${c.hidden}`,
  ];
}

interface GenDisk {
  target: string;
  format: 'raw' | 'qcow2' | 'qcow' | 'vhd' | 'qed' | null;
  cdrom: boolean;
  ro: boolean;
  style: 'positional' | 'keys' | 'prefix';
  colo: GenColo | null;
  partialColo: string[];
  extras: string[];
}

const genDisk = fc.record({
  target: absPath,
  format: fc.constantFrom('raw', 'qcow2', 'qcow', 'vhd', 'qed', null),
  cdrom: fc.boolean(),
  ro: fc.boolean(),
  style: fc.constantFrom('positional', 'keys', 'prefix'),
  colo: fc.option(completeColo, { freq: 2 }),
  partialColo: fc.subarray(['no-colo', 'colo', 'colo-host=h1', 'colo-port=12abc', 'colo-port=-5', 'colo-export=x', 'active-disk=/a']),
  extras: fc.subarray([
    'direct-io-safe', 'discard', 'backendtype=qdisk', 'script=block-drbd', 'specification=xen', 'backend=dom0',
    'no-discard',
  ]),
}) as fc.Arbitrary<GenDisk>;

function diskSpec(g: GenDisk, vdev: string): string {
  const opts: string[] = [];
  if (g.colo && !g.cdrom) opts.push(...coloKeys(g.colo));
  else opts.push(...g.partialColo);
  // mutually exclusive flags: keep the first of each pair so the spec is valid
  const extras = g.extras.filter((e) => !(e === 'no-discard' && g.extras.includes('discard')));
  // scripts need a raw, non-qdisk disk to be meaningful but the parser takes them anywhere
  opts.push(...extras.filter((e) => !(e === 'script=block-drbd' && g.extras.includes('backendtype=qdisk'))));
  const access = g.ro || g.cdrom ? 'r' : 'w';
  const cd = g.cdrom ? ['devtype=cdrom'] : [];
  switch (g.style) {
    case 'positional':
      return [g.target, g.format ?? '', vdev, access, ...cd, ...opts].join(',');
    case 'prefix':
      // a deprecated prefix fills the format slot: vdev comes next
      return [`${g.format && g.format !== 'qed' ? `${g.format}:` : 'phy:'}${g.target}`, vdev, access, ...cd, ...opts].join(',');
    case 'keys':
      return [...(g.format ? [`format=${g.format}`] : []), `vdev=${vdev}`, `access=${access}`, ...cd, ...opts, `target=${g.target}`].join(',');
  }
}

export interface GenConfig {
  cfg: string;
  specs: string[];
}

/** Whole xl.cfg files with 1–4 disks on distinct vdevs. */
export const genConfig: fc.Arbitrary<GenConfig> = fc
  .record({
    name: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/),
    memory: fc.integer({ min: 16, max: 8192 }),
    vcpus: fc.integer({ min: 1, max: 8 }),
    boot: fc.option(fc.constantFrom('c', 'cd', 'dc', 'n', 'cda')),
    vdevs: fc.shuffledSubarray(VDEVS, { minLength: 1, maxLength: 4 }),
    disks: fc.array(genDisk, { minLength: 4, maxLength: 4 }),
  })
  .map((r) => {
    const specs = r.vdevs.map((v, i) => diskSpec(r.disks[i]!, v));
    const cfg =
      `name = ${xlCfgString(r.name)}\ntype = "hvm"\nmemory = ${r.memory}\nvcpus = ${r.vcpus}\n` +
      (r.boot ? `boot = "${r.boot}"\n` : '') +
      `disk = [ ${specs.map(xlCfgString).join(',\n  ')} ]\n`;
    return { cfg, specs };
  });
