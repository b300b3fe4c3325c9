/**
 * The behaviours Xen's tools/xl/check-xl-disk-parse script groups together: several ways of
 * writing the same disk must print the same `xl -N block-attach` JSON. Written from the
 * behaviour (the expected JSON comes from Debian's libxlutil 4.17), with argv words as xl gets them.
 */
import assert from 'node:assert/strict';
import { CapturedIo } from '../../cli/io.js';
import { main as cliMain } from '../../cli/main.js';

async function blockAttach(words: string[]): Promise<{ status: number; stdout: string }> {
  const io = new CapturedIo();
  const status = await cliMain(['-N', 'block-attach', '0', ...words], io);
  return { status, stdout: io.stdout };
}

function json(fields: Record<string, string | number>): string {
  const body = Object.entries(fields).map(([k, v]) => `    "${k}": ${JSON.stringify(v)}`).join(',\n');
  return `disk: {\n${body}\n}\n\n`;
}

const groups: { what: string; variants: string[][]; expect: string | null }[] = [
  { what: 'a bare target is refused (exit 1, nothing on stdout)', variants: [['/dev/vg/guest-volume']], expect: null },
  {
    what: 'a plain disk on hda, five ways',
    variants: [
      ['/dev/vg/guest-volume,,hda'],
      ['/dev/vg/guest-volume,raw,hda,rw'],
      ['format=raw, vdev=hda, access=rw, target=/dev/vg/guest-volume'],
      ['format=raw', 'vdev=hda', 'access=rw', 'target=/dev/vg/guest-volume'],
      ['raw:/dev/vg/guest-volume,hda,w'],
    ],
    expect: json({ pdev_path: '/dev/vg/guest-volume', vdev: 'hda', format: 'raw', readwrite: 1 }),
  },
  {
    what: 'a CD-ROM image on hdc, six ways',
    variants: [
      ['/root/image.iso,,hdc,cdrom'],
      ['/root/image.iso,,hdc,,cdrom'],
      ['/root/image.iso,raw,hdc,devtype=cdrom'],
      ['format=raw, vdev=hdc, access=ro, devtype=cdrom, target=/root/image.iso'],
      ['format=raw', 'vdev=hdc', 'access=ro', 'devtype=cdrom', 'target=/root/image.iso'],
      ['raw:/root/image.iso,hdc:cdrom,ro'],
    ],
    expect: json({ pdev_path: '/root/image.iso', vdev: 'hdc', format: 'raw', removable: 1, is_cdrom: 1 }),
  },
  {
    what: 'an explicit backend type',
    variants: [['format=raw, vdev=hdc, access=ro, backendtype=phy, target=/dev/vg/guest-volume']],
    expect: json({ pdev_path: '/dev/vg/guest-volume', vdev: 'hdc', backend: 'phy', format: 'raw' }),
  },
  {
    what: 'an empty CD-ROM drive with an empty target, five ways',
    variants: [
      ['devtype=cdrom,,,hdc'],
      [',,hdc:cdrom,r'],
      [',hdc:cdrom,r'],
      ['vdev=hdc,access=r,devtype=cdrom,target='],
      [',empty,hdc:cdrom,r'],
    ],
    expect: json({ pdev_path: '', vdev: 'hdc', format: 'empty', removable: 1, is_cdrom: 1 }),
  },
  {
    what: 'an empty CD-ROM drive with no target at all',
    variants: [['vdev=hdc,access=r,devtype=cdrom,format=empty'], ['vdev=hdc,access=r,devtype=cdrom']],
    expect: json({ vdev: 'hdc', format: 'empty', removable: 1, is_cdrom: 1 }),
  },
  {
    what: 'iSCSI through the deprecated prefix and through script=',
    variants: [['iscsi:iqn.2001-05.com.example:c0bd59c,xvda,w'], ['vdev=xvda,access=w,script=block-iscsi,target=iqn.2001-05.com.example:c0bd59c']],
    expect: json({ pdev_path: 'iqn.2001-05.com.example:c0bd59c', vdev: 'xvda', format: 'raw', script: 'block-iscsi', readwrite: 1 }),
  },
  {
    what: 'DRBD through the deprecated prefix',
    variants: [['drbd:app01,hda,w']],
    expect: json({ pdev_path: 'app01', vdev: 'hda', format: 'raw', script: 'block-drbd', readwrite: 1 }),
  },
  {
    what: 'discard',
    variants: [['discard,vdev=xvda,target=/dev/vg/guest-volume']],
    expect: json({ pdev_path: '/dev/vg/guest-volume', vdev: 'xvda', format: 'raw', readwrite: 1, discard_enable: 'True' }),
  },
  {
    what: 'no-discard on a CD-ROM',
    variants: [['cdrom,no-discard,vdev=xvda,target=/dev/vg/guest-volume']],
    expect: json({ pdev_path: '/dev/vg/guest-volume', vdev: 'xvda', format: 'raw', removable: 1, is_cdrom: 1, discard_enable: 'False' }),
  },
  {
    // The script expects trusted/untrusted flags, but Debian's 4.17 library has no such keywords:
    // the word is a positional value, and a target is already there.
    what: 'trusted and untrusted are refused by the 4.17 library',
    variants: [['trusted,vdev=xvda,target=/dev/vg/guest-volume'], ['untrusted,vdev=xvda,target=/dev/vg/guest-volume']],
    expect: null,
  },
];

describe('check-xl-disk-parse groups through colo-xl -N block-attach', () => {
  for (const g of groups) {
    it(g.what, async () => {
      for (const words of g.variants) {
        const r = await blockAttach(words);
        if (g.expect === null) assert.deepEqual(r, { status: 1, stdout: '' }, JSON.stringify(words));
        else assert.deepEqual(r, { status: 0, stdout: g.expect }, JSON.stringify(words));
      }
    });
  }
});

describe('disk spec table rows not covered elsewhere', () => {
  it('direct-io-safe, backend=, script=, specification=, blanks and newlines before parameters', async () => {
    const r = await blockAttach(['\n\t direct-io-safe, backend=dd1,script=block-foo,\tspecification=xen,vdev=xvdz,target=/t']);
    const expected = [
      'disk: {',
      '    "backend_domname": "dd1",',
      '    "pdev_path": "/t",',
      '    "vdev": "xvdz",',
      '    "format": "raw",',
      '    "script": "block-foo",',
      '    "readwrite": 1,',
      '    "direct_io_safe": true,',
      '    "specification": "xen"',
      '}',
      '',
      '',
    ].join('\n');
    assert.deepEqual(r, { status: 0, stdout: expected });
  });
});
