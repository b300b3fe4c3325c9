/**
 * Seeded generator of xl.cfg files that use only the keys colo-xl supports (with a uuid, so the
 * output is deterministic), mixing valid values, values xl warns about and values it refuses,
 * in the various syntaxes libxlu accepts.
 */

export class Rng {
  constructor(private seed: number) {}
  next(): number {
    this.seed = (Math.imul(this.seed, 1103515245) + 12345) & 0x7fffffff;
    return this.seed / 0x7fffffff;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const DISKS = [
  'vdev=hda,format=qcow2,target=/srv/a.qcow2',
  '/srv/b.img,raw,xvdb,rw',
  '/srv/c.img,,hdb,ro',
  ',,hdc:cdrom,r',
  'vdev=hdc,devtype=cdrom,format=raw,access=ro,target=/srv/boot.iso',
  'vdev=sda,format=raw,target=/srv/s.img',
  'format=qed,vdev=xvdc,target=/srv/q.qed',
  'vdev=hda,format=qcow2,colo,colo-host=127.0.0.1,colo-port=9000,colo-export=e1,active-disk=/srv/act.qcow2,hidden-disk=/srv/hid.qcow2,target=/srv/p.qcow2',
  'vdev=sdb,format=qcow2,colo,colo-host=10.0.0.2,colo-port=9001,colo-export=e2,active-disk=/a2,hidden-disk=/h2,target=/p2',
  'phy:/dev/vg/guest,xvda,w',
  'tap:qcow2:/srv/t.qcow2,hdd,w',
  'vdev=xvde,backendtype=qdisk,discard,target=/srv/d.img',
  'vdev=hda,format=QCOW2,target=/x',
  'hda:/bad',
  'vdev=xvdf,colo-port=abc,target=/y',
  'target=/x,vdev=xvda',
];

const NUMBERS = ['0', '1', '2', '4', '16', '512', '1024', '0x10', '010', '"3"', '"12abc"', '"x"', '[1]', '99999999999999999999', '"-1"', '" 7"', '"0x"'];

function q(r: Rng, s: string): string {
  return r.chance(0.5) ? `"${s}"` : `'${s}'`;
}

function value(r: Rng, key: string): string {
  switch (key) {
    case 'name':
      return r.chance(0.95) ? q(r, r.pick(['g1', 'colo-vm', 'a b', 'x.y'])) : '["n"]';
    case 'uuid':
      return r.chance(0.95) ? q(r, r.pick(['12345678-1234-1234-1234-123456789abc', 'ABCDEF01-0000-4000-8000-00000000000F'])) : q(r, 'not-a-uuid');
    case 'type':
      return q(r, r.chance(0.85) ? 'hvm' : r.pick(['h', '', 'pv', 'pvh', 'bogus']));
    case 'builder':
      return q(r, r.chance(0.8) ? 'hvm' : r.pick(['generic', 'x']));
    case 'memory':
    case 'maxmem':
    case 'vcpus':
    case 'maxvcpus':
    case 'videoram':
    case 'vncdisplay':
      return r.pick(NUMBERS);
    case 'disk': {
      const n = r.int(4);
      const items = Array.from({ length: n }, () => q(r, r.pick(DISKS)));
      if (r.chance(0.1)) return q(r, r.pick(DISKS));
      return `[ ${items.join(r.pick([', ', ',\n  ']))}${n > 0 && r.chance(0.3) ? ',' : ''} ]`;
    }
    case 'device_model_version':
      return q(r, r.pick(['qemu-xen', 'qemu-xen', 'qemu-xen-traditional', 'qemu']));
    case 'device_model_override':
      return q(r, '/usr/bin/qemu-system-i386');
    case 'boot':
      return r.chance(0.9) ? q(r, r.pick(['c', 'dc', 'cdn'])) : '["c"]';
    case 'vnc':
    case 'vncunused':
    case 'sdl':
    case 'nographic':
    case 'stdvga':
      return r.pick(['0', '1', '2', '"1"', '"yes"']);
    case 'vnclisten':
      return q(r, r.pick(['127.0.0.1', '0.0.0.0', '127.0.0.1:1']));
    case 'serial':
      return r.pick(['"pty"', "'null'", '["pty", "null"]', '[]', '["pty", ["x"], "null"]']);
    case 'vga':
      return q(r, r.pick(['stdvga', 'cirrus', 'none', 'qxl', 'std']));
    case 'hdtype':
      return q(r, r.pick(['ide', 'ahci', 'AHCI', 'scsi']));
    default: // on_*
      return q(r, r.pick(['destroy', 'restart', 'rename-restart', 'preserve', 'coredump-destroy', 'coredump-restart', 'soft-reset', 'reboot']));
  }
}

const OPTIONAL_KEYS = [
  'builder', 'memory', 'maxmem', 'vcpus', 'maxvcpus', 'disk', 'device_model_version', 'device_model_override', 'boot',
  'vnc', 'vnclisten', 'vncdisplay', 'vncunused', 'sdl', 'serial', 'nographic', 'stdvga', 'vga', 'videoram', 'hdtype',
  'on_poweroff', 'on_reboot', 'on_crash',
];

/** One config file's text. */
export function generateConfig(r: Rng): string {
  const keys = ['name', 'uuid', 'type', ...OPTIONAL_KEYS.filter((k) => r.chance(k === 'builder' ? 0.08 : 0.35))];
  if (r.chance(0.03)) keys.splice(0, 1);
  // Shuffle: xl reads keys by name, so file order must not matter (except for warnings' lines).
  for (let i = keys.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [keys[i], keys[j]] = [keys[j]!, keys[i]!];
  }
  let text = r.chance(0.3) ? '# generated\n' : '';
  for (const k of keys) {
    const sep = r.pick([' = ', '=', '\t=  ']);
    const end = r.pick(['\n', '\n', ';\n', '; # c\n', '\n\n']);
    text += `${k}${sep}${value(r, k)}${end}`;
    if (k === 'serial' && r.chance(0.2)) text += `serial += ${r.pick(['"x"', '["y"]'])}\n`;
    if (k === 'name' && r.chance(0.1)) text += `name += ${r.pick(['"-2"', "'x'"])}\n`;
    if (k === 'memory' && r.chance(0.1)) text += 'memory += 1\n';
    if (r.chance(0.02)) text += r.pick(['vcpus = 2 $\n', 'x = = 1\n', 'boot = "\\x41"\n', 'a.b = 1 2\n']);
  }
  if (r.chance(0.05)) text += 'name = "no newline at end"';
  return text;
}
