import assert from 'node:assert/strict';
import { parseDiskSpec, DiskSpecError, tokenizeDiskSpec } from '../../lib/xlu/index.js';
import { DiskScannerFatal } from '../../lib/xlu/disk/parse.js';
import { diskToJson } from '../../lib/libxl/index.js';
import type { DeviceDisk } from '../../lib/libxl/index.js';

/** The fields a case cares about; everything else must be at libxl_device_disk_init's value. */
function expectDisk(spec: string | string[], want: Partial<DeviceDisk>): DeviceDisk {
  const d = parseDiskSpec(spec);
  for (const [k, v] of Object.entries(want)) assert.deepEqual(d[k as keyof DeviceDisk], v, `${k} of ${JSON.stringify(spec)}`);
  return d;
}

/** The report lines libxlu prints, without the common prefix. */
function expectErrors(spec: string | string[], ...lines: string[]): DiskSpecError {
  try {
    parseDiskSpec(spec);
  } catch (e) {
    assert.ok(e instanceof DiskSpecError, String(e));
    const prefix = 'command line: config parsing error in disk specification: ';
    assert.deepEqual(e.report.split('\n').slice(0, -1).map((l) => l.replace(prefix, '')), lines);
    return e;
  }
  assert.fail(`${JSON.stringify(spec)} was accepted`);
}

describe('disk spec: positional parameters (target, format, vdev, access)', () => {
  it('fills the slots in order; an empty format is raw', () => {
    expectDisk('/dev/vg/gv,,hda', { pdev_path: '/dev/vg/gv', vdev: 'hda', format: 'raw', readwrite: 1 });
    expectDisk('/x,qcow2,xvdb,r', { pdev_path: '/x', format: 'qcow2', vdev: 'xvdb', readwrite: 0 });
  });
  it('a trailing empty access means rw; one more empty token is too many', () => {
    expectDisk('/x,,xvda,', { readwrite: 1 });
    expectDisk('/x,,xvda,,', { readwrite: 1 });
    expectErrors('/x,,xvda,,,', "too many positional parameters: near `' in `/x,,xvda,,,'");
  });
  it('too many positional parameters stops the scan at once', () => {
    expectErrors('/x,,xvda,r,w,format=bogus', "too many positional parameters: near `w' in `/x,,xvda,r,w,format=bogus'");
  });
  it('keeps blanks inside and after a value, skips them only before a parameter', () => {
    expectErrors('  /a , raw , xvda', "unknown value for format: near `raw ' in `  /a , raw , xvda'");
    expectDisk('/x, raw, xvda', { format: 'raw', vdev: 'xvda' });
  });
  it('a blank run belongs to the value when the value crosses a newline', () => {
    expectDisk(' a\nb,,xvda', { pdev_path: ' a\nb', vdev: 'xvda' });
  });
  it('<vdev>:<devtype> in the vdev slot, and in the format slot only after an empty target', () => {
    expectDisk('/x,raw,xvda:cdrom,r', { vdev: 'xvda', is_cdrom: 1, removable: 1, readwrite: 0 });
    expectDisk(',hdc:cdrom,r', { pdev_path: '', vdev: 'hdc', format: 'empty', is_cdrom: 1 });
    expectErrors('/x,xvda:cdrom,r', "unknown value for format: near `xvda:cdrom' in `/x,xvda:cdrom,r'");
    expectErrors('/x,,xvda:floppy', "unknown deprecated type: near `floppy' in `/x,,xvda:floppy'");
  });
  it('a bare flag word is always the flag, a longer word is positional', () => {
    expectDisk('/root/image.iso,,hdc,cdrom', { is_cdrom: 1, readwrite: 0 });
    expectDisk('colorful.img,,xvda,colo', { pdev_path: 'colorful.img', colo_enable: true });
  });
});

describe('disk spec: keyword parameters', () => {
  it('mixes with positionals; a named format moves the next positional to vdev', () => {
    expectDisk('format=qcow2,/p,xvda', { pdev_path: '/p', format: 'qcow2', vdev: 'xvda' });
  });
  it('access has no respecification check: the last one wins', () => {
    expectDisk('/x,,xvda,r,access=w', { readwrite: 1 });
    expectDisk('access=r,access=w,vdev=xvda,target=/x', { readwrite: 1 });
  });
  it('maps every format and refuses others (case-sensitive)', () => {
    for (const f of ['raw', 'qcow', 'qcow2', 'vhd', 'qed', 'empty'] as const) expectDisk(`/x,${f},xvda`, { format: f });
    expectErrors('/x,QCOW2,xvda', "unknown value for format: near `QCOW2' in `/x,QCOW2,xvda'");
  });
  it('enum respecification: same value is fine, a different one is an error', () => {
    expectDisk('/x,qcow2,xvda,format=qcow2', { format: 'qcow2' });
    expectErrors('/x,qcow2,xvda,format=raw', "format respecified: near `raw' in `/x,qcow2,xvda,format=raw'");
    expectErrors('/x,,xvda,backendtype=phy,backendtype=qdisk', "backend respecified: near `qdisk' in `/x,,xvda,backendtype=phy,backendtype=qdisk'");
    expectErrors('/x,,xvda,specification=xen,specification=virtio', "specification respecified: near `virtio' in `/x,,xvda,specification=xen,specification=virtio'");
  });
  it('string respecification, except over an empty string', () => {
    expectDisk(',,hdc,target=/x', { pdev_path: '/x', vdev: 'hdc' });
    expectErrors('/a,,xvda,target=/b', "target respecified: near `/b' in `/a,,xvda,target=/b'");
    expectErrors('iscsi:iqn,xvda,script=x', "script respecified: near `x' in `iscsi:iqn,xvda,script=x'");
    expectErrors('/x,,xvda,backend=d1,backend=d2', "backend respecified: near `d2' in `/x,,xvda,backend=d1,backend=d2'");
  });
  it('backendtype, specification and devtype values', () => {
    for (const b of ['phy', 'tap', 'qdisk', 'standalone'] as const) expectDisk(`/x,,xvda,backendtype=${b}`, { backend: b });
    expectErrors('/x,,xvda,backendtype=vbd3', "unknown value for backendtype: near `vbd3' in `/x,,xvda,backendtype=vbd3'");
    expectDisk('/x,,xvda,specification=virtio', { specification: 'virtio' });
    expectErrors('/x,,xvda,devtype=floppy,', "unknown value for type: near `devtype=floppy,' in `/x,,xvda,devtype=floppy,'");
    expectDisk('/x,,xvda,cdrom,devtype=disk', { is_cdrom: 0, readwrite: 1 });
  });
  it('target= eats the rest of the string, commas included', () => {
    expectDisk('vdev=xvda,devtype=cdrom,target=/x,access=rw', { pdev_path: '/x,access=rw' });
    expectErrors('target=/x,vdev=xvda', "no vdev specified in `target=/x,vdev=xvda'");
  });
  it('an empty vdev passes the parser', () => {
    expectDisk('/x,vdev=', { vdev: '' });
  });
});

describe('disk spec: unknown parameters and bad syntax', () => {
  it('unknown parameter quotes the key and exactly one value character', () => {
    expectErrors('/x,,xvda,foo=bar', "unknown parameter: near `foo=b' in `/x,,xvda,foo=bar'");
  });
  it('an empty unknown value falls to bad syntax', () => {
    expectErrors('/x,,xvda,foo=,y', "unknown value for access: near `foo' in `/x,,xvda,foo=,y'", "bad disk syntax: near `=,y' in `/x,,xvda,foo=,y'");
  });
  it('keys with _ or upper case are positional, then bad syntax; later errors still print', () => {
    expectErrors('/x,,xvda,grant_usage=2', "unknown value for access: near `grant_usage' in `/x,,xvda,grant_usage=2'", "bad disk syntax: near `=2' in `/x,,xvda,grant_usage=2'");
  });
  it('a trailing = ends the scan silently; before a newline the real scanner aborts', () => {
    expectErrors('/x=', "no vdev specified in `/x='");
    assert.throws(() => parseDiskSpec('A=\nb'), (e: unknown) => e instanceof DiskScannerFatal && e.report === 'flex scanner jammed\n');
    // what libxlu printed before that stays in the report
    assert.throws(() => parseDiskSpec('vdev=a,vdev=b,=\n'), (e: unknown) => e instanceof DiskScannerFatal &&
      e.report === "command line: config parsing error in disk specification: vdev respecified: near `b' in `vdev=a,vdev=b,=\n'\nflex scanner jammed\n");
  });
  it('trusted/untrusted are not keywords in the 4.17 library', () => {
    expectErrors('/x,,xvda,r,trusted', "too many positional parameters: near `trusted' in `/x,,xvda,r,trusted'");
  });
});

describe('disk spec: deprecated prefixes', () => {
  it('format, script and ignored prefixes, stacked', () => {
    expectDisk('raw:/dev/vg/gv,hda,w', { pdev_path: '/dev/vg/gv', format: 'raw', vdev: 'hda', readwrite: 1 });
    expectDisk('tap:qcow2:/x,xvda,w', { format: 'qcow2', pdev_path: '/x' });
    expectDisk('tap2:tapdisk:aio:vhd:/x,xvda', { format: 'vhd' });
    expectDisk('nbd:host:1234,xvda,w', { pdev_path: 'host:1234', script: 'block-nbd' });
    expectDisk('file:/x,hda,r', { pdev_path: '/x', readwrite: 0 });
  });
  it('a prefix skips the format slot', () => {
    expectErrors('raw:/x,qcow2,xvda', "unknown value for access: near `xvda' in `raw:/x,qcow2,xvda'");
  });
  it('an unknown prefix is an error and stops; name:alnum is no prefix', () => {
    expectErrors('c:\\x,,xvda,bogus=1', "unknown deprecated disk prefix: near `c:' in `c:\\x,,xvda,bogus=1'");
    expectErrors('hdc:cdrom', "no vdev specified in `hdc:cdrom'");
  });
  it('a script prefix clash quotes the generated script name', () => {
    expectErrors('/x,,xvda,script=s,nbd:', "script respecified: near `block-nbd' in `/x,,xvda,script=s,nbd:'");
  });
});

describe('disk spec: COLO keys', () => {
  it('parses the full COLO set', () => {
    expectDisk('/x,,hda,colo,colo-host=10.0.0.2,colo-port=9000,colo-export=e1,active-disk=/a.qcow2,hidden-disk=/h.qcow2', {
      colo_enable: true, colo_host: '10.0.0.2', colo_port: 9000, colo_export: 'e1', active_disk: '/a.qcow2', hidden_disk: '/h.qcow2',
    });
  });
  it('colo / no-colo: the last one wins', () => {
    expectDisk('/x,,xvda,colo,no-colo', { colo_enable: false });
  });
  it('colo-port goes through atoi and refuses 0', () => {
    const port = (v: string) => parseDiskSpec(`/x,,xvda,colo-port=${v}`).colo_port;
    assert.equal(port('9000abc'), 9000);
    assert.equal(port('+5'), 5);
    assert.equal(port('-1'), -1);
    assert.equal(port(' 12'), 12);
    assert.equal(port('4294967297'), 1);
    assert.equal(port('99999999999999999999'), -1);
    for (const v of ['abc', '0x10', '', '0']) expectErrors(`/x,,xvda,colo-port=${v}`, `unknown value for colo_port: near \`${v}' in \`/x,,xvda,colo-port=${v}'`);
  });
  it('accepts a partial COLO set (libxl checks later)', () => {
    expectDisk('/x,,xvda,colo-host=h', { colo_host: 'h', colo_enable: null });
    expectErrors('/x,,xvda,colo-host=a,colo-host=b', "colo-host respecified: near `b' in `/x,,xvda,colo-host=a,colo-host=b'");
  });
});

describe('disk spec: post-processing and multi-string input', () => {
  it('a cdrom is removable and read-only; without a target it is empty', () => {
    expectDisk('vdev=hdc,access=rw,devtype=cdrom,format=qcow2', { format: 'empty', pdev_path: null, readwrite: 0, removable: 1 });
    expectDisk('devtype=cdrom,,,hdc', { pdev_path: '', format: 'empty', vdev: 'hdc' });
  });
  it('no vdev, no target', () => {
    expectErrors('/x', "no vdev specified in `/x'");
    expectErrors('vdev=xvda', "no target specified (and device not removable) in `vdev=xvda'");
  });
  it('several strings fill one disk and share the positional state', () => {
    expectDisk(['vdev=xvda', 'format=qcow2', 'target=/p'], { vdev: 'xvda', format: 'qcow2', pdev_path: '/p' });
    expectDisk(['/x', ',', 'xvda'], { pdev_path: '/x', format: 'raw', vdev: 'xvda' });
    // an empty string has no tokens at all, so it fills no slot
    expectErrors(['/x', '', 'xvda'], "unknown value for format: near `xvda' in `xvda'");
  });
  it('an error in one string stops before the next and skips the final checks', () => {
    expectErrors(['/x,bogus', 'also=bad'], "unknown value for format: near `bogus' in `/x,bogus'");
  });
  it('final-check messages name the last string', () => {
    expectErrors(['/x', 'raw'], "no vdev specified in `raw'");
  });
  it('uses the given source in the report', () => {
    assert.throws(() => parseDiskSpec('/x', { source: 'guest.cfg' }), (e: DiskSpecError) => e.report === "guest.cfg: config parsing error in disk specification: no vdev specified in `/x'\n");
  });
  it('quotes exactly one byte of a multi-byte character, as the C scanner does', () => {
    const e = expectErrors('/x,,xvda,foo=é', "unknown parameter: near `foo=\uFFFD' in `/x,,xvda,foo=é'");
    assert.deepEqual([...e.reportBytes.subarray(e.reportBytes.indexOf('`') + 1, e.reportBytes.indexOf("'"))], [...Buffer.from('foo=\xc3', 'latin1')]);
  });
});

describe('disk spec: the grammar', () => {
  it('gives one token list, blanks before parameters dropped', () => {
    assert.deepEqual(tokenizeDiskSpec(' /x, format=raw,xvda').map((t) => [t.type, t.text]), [
      ['positional', '/x,'], ['kv', 'format=raw,'], ['positional', 'xvda'],
    ]);
  });
});

describe('disk JSON (libxl_device_disk_to_json, yajl)', () => {
  it('prints the check-xl-disk-parse plain disk', () => {
    assert.equal(diskToJson(parseDiskSpec('/dev/vg/guest-volume,,hda')), '{\n    "pdev_path": "/dev/vg/guest-volume",\n    "vdev": "hda",\n    "format": "raw",\n    "readwrite": 1\n}\n');
  });
  it('prints COLO keys in IDL order with the port as a number', () => {
    const json = diskToJson(parseDiskSpec('/x,,hda,colo,colo-host=10.0.0.2,colo-port=9000,colo-export=e1,active-disk=/a.qcow2,hidden-disk=/h.qcow2'));
    assert.deepEqual(Object.keys(JSON.parse(json)), ['pdev_path', 'vdev', 'format', 'readwrite', 'colo_enable', 'colo_host', 'colo_port', 'colo_export', 'active_disk', 'hidden_disk']);
    assert.match(json, /"colo_port": 9000,/);
    assert.match(json, /"colo_enable": "True",/);
  });
  it('omits defaults, keeps empty strings, prints defbools as strings', () => {
    const json = diskToJson(parseDiskSpec('cdrom,no-discard,,,hdc'));
    assert.equal(json, '{\n    "pdev_path": "",\n    "vdev": "hdc",\n    "format": "empty",\n    "removable": 1,\n    "is_cdrom": 1,\n    "discard_enable": "False"\n}\n');
  });
  it('escapes like yajl: quotes, backslashes, control characters; not /', () => {
    assert.equal(diskToJson({ ...parseDiskSpec('/x,,xvda'), pdev_path: '/a"b\\c\x01\t/' }).split('\n')[1], '    "pdev_path": "/a\\"b\\\\c\\u0001\\t/",');
  });
});
