import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { domainConfigToXml, domainXmlToXlCfg, DomXmlError } from '../../lib/libvirt/domxml.js';
import { parseXml, XmlError, xmlEscape, XmlWriter } from '../../lib/libvirt/xml.js';
import { parseCfg, TEST_UUID } from './support/cfg.js';
import { cli } from '../support/cli.js';

const COLO_CFG =
  `name = "g"\nuuid = "${TEST_UUID}"\ntype = "hvm"\nmemory = 256\n` +
  'disk = [ "/img/a.raw,raw,hda,w,colo,colo-host=10.0.0.2,colo-port=9000,colo-export=e1,active-disk=/c/a.qcow2,hidden-disk=/c/h.qcow2" ]\n';
const XML = domainConfigToXml(parseCfg(COLO_CFG));

function refused(xml: string, pattern: RegExp): void {
  assert.throws(() => domainXmlToXlCfg(xml), (e: Error) => {
    assert.ok(e instanceof DomXmlError || e instanceof XmlError, `${e.name}: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  });
}
function edit(from: string, to: string): string {
  assert.ok(XML.includes(from), `fixture lacks ${from}`);
  return XML.replace(from, to);
}

describe('libvirt domain XML: the strict XML reader and writer', () => {
  it('escapes markup and quotes in text and attributes, and reads them back', () => {
    const w = new XmlWriter().open('a', [['v', `x'"<&>\n\ty`]]).text('b', `1 < 2 && "q"`).close('a');
    const el = parseXml(w.toString());
    assert.equal(el.attrs.get('v'), `x'"<&>\n\ty`);
    assert.equal(el.children[0]!.text, `1 < 2 && "q"`);
    assert.equal(xmlEscape('a&b'), 'a&amp;b');
    assert.throws(() => xmlEscape('a\x01b'), XmlError);
  });

  it('resolves namespaces, character references and CDATA', () => {
    const el = parseXml(`<?xml version="1.0"?>\n<!-- c --><r xmlns:p="urn:x"><p:k a="&#65;&#x42;"><![CDATA[<raw>]]></p:k></r>`);
    const k = el.children[0]!;
    assert.deepEqual([k.ns, k.local, k.attrs.get('a'), k.text], ['urn:x', 'k', 'AB', '<raw>']);
  });

  it('refuses malformed documents, naming the place and the element', () => {
    const cases: [string, RegExp][] = [
      ['<a><b></a>', /line 1, column \d+: <\/a> closes <b>/],
      ['<a x="1" x="2"/>', /duplicate attribute x on <a>/],
      ['<a>&nbsp;</a>', /unknown entity &nbsp; in <a>/],
      ['<!DOCTYPE a><a/>', /DOCTYPE is not allowed/],
      ['<p:a/>', /undeclared namespace prefix p on <p:a>/],
      ['<a x=1/>', /attribute x of <a> is not quoted/],
      ['<a/><b/>', /content after the root element/],
      ['<a>\n<b>', /<b> \(line 2\) is never closed/],
      ['', /no root element/],
    ];
    for (const [src, re] of cases) assert.throws(() => parseXml(src), (e: Error) => e instanceof XmlError && re.test(e.message), src);
  });
});

describe('libvirt domain XML: documents colo-xl refuses', () => {
  it('refuses bad XML with the line and the element', () => {
    refused(XML.replace('</devices>', '</device>'), /bad XML at line \d+, column \d+: <\/device> closes <devices>/);
  });

  it('refuses replication trees libxl cannot build, naming the element', () => {
    const cases: [string, string, RegExp][] = [
      ["vote-threshold='1'", "vote-threshold='2'", /<colo:driver> \(line \d+\): vote-threshold='2' cannot be expressed/],
      ["read-pattern='fifo'", "read-pattern='quorum'", /<colo:driver> .*read-pattern='quorum'/],
      ["<colo:primary type='quorum'>", "<colo:primary type='replication'>", /<colo:primary> .*type='replication' cannot be expressed/],
      ["mode='secondary'", "mode='primary'", /<colo:secondary> .*mode='primary'/],
      ["<colo:format type='qcow2'/>", "<colo:format type='raw'/>", /<colo:format> .*type='raw' cannot be expressed.*qcow2/],
      ["<colo:blockdev name='e1'>", "<colo:blockdev name='e2'>", /<colo:blockdev> .*name='e2'/],
      ["<colo:reference blockdev='e1'/>", "<colo:reference blockdev='other'/>", /<colo:reference> .*blockdev='other'/],
      ["<colo:reference dev='hda' index='0'/>", "<colo:reference dev='hda' index='1'/>", /<colo:reference> .*index='1' cannot be expressed/],
      ["<colo:backingStore type='file' index='2'>", "<colo:backingStore type='file' index='5'>", /<colo:backingStore> .*index='5'/],
      ["<colo:disk target='hda' colo='on'>", "<colo:disk target='hdz' colo='on'>", /<colo:disk> .*target='hdz' names no <disk>/],
      ["<colo:disk target='hda' colo='on'>", "<colo:disk target='hda' colo='off'>", /<colo:disk> .*replication trees need colo='on'/],
      ["<colo:disk target='hda' colo='on'>", "<colo:disk target='hda' colo='on' speed='9'>", /<colo:disk> .*unknown attribute speed/],
      ["<colo:nbd host='10.0.0.2' port='9000' export='e1'/>", "<colo:nbd host='10.0.0.2' port='x' export='e1'/>", /<colo:nbd> .*port='x' is not an integer/],
      ["<colo:nbd host='10.0.0.2' port='9000' export='e1'/>", '', /<colo:disk> .*must contain exactly <colo:nbd>, <colo:primary>/],
      ["<colo:format type='raw'/>\n            <colo:reference dev='hda' index='0'/>",
        "<colo:format type='raw'/>\n            <colo:reference dev='hda' index='0'/></colo:backingStore><colo:backingStore type='file' index='2'><colo:format type='raw'/><colo:reference dev='hda' index='0'/>",
        /<colo:primary> .*must contain exactly <colo:driver>, <colo:backingStore>/],
      ['<colo:replication ', '<colo:replica ', /<\/colo:replication> closes <colo:replica>|unknown element/],
    ];
    for (const [from, to, re] of cases) refused(edit(from, to), re);
    // an element of the COLO namespace colo-xl does not know
    refused(edit('</colo:replication>', '<colo:mirror/></colo:replication>'), /<colo:mirror> .*only <colo:disk> belongs/);
  });

  it('refuses standard parts an xl.cfg cannot hold', () => {
    refused(edit("<domain type='xen'>", "<domain type='kvm'>"), /<domain> \(line 1\): type='kvm' is not a xen domain/);
    refused(edit('>hvm</type>', '>linux</type>'), /<type> .*hvm guests only/);
    refused(edit("<disk type='file' device='disk'>", "<disk type='network' device='disk'>"), /<disk> .*type='network'/);
    refused(edit("<driver name='qemu' type='raw'/>", "<driver name='qemu' type='vmdk'/>"), /<driver> .*type='vmdk'/);
    refused(edit("<memory unit='KiB'>262144</memory>", "<memory unit='KiB'>1000</memory>"), /<memory> .*whole number of MiB/);
    assert.throws(() => domainConfigToXml(parseCfg('name="g"\ntype="hvm"\ndisk=["/a,,hda,w","/b,,hda,w"]\n')), /two disks use vdev hda/);
    assert.throws(() => domainConfigToXml(parseCfg('name="g"\ntype="hvm"\non_poweroff="coredump-destroy"\n')), /on_poweroff = "coredump-destroy" has no libvirt <on_poweroff> equivalent/);
  });
});

describe('colo-xl domxml-from-native / domxml-to-native', () => {
  const dir = mkdtempSync(join(tmpdir(), 'colo-xl-domxml-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('converts a config to XML and back, byte-exact on the second lap', async () => {
    const cfg = join(dir, 'g.cfg');
    writeFileSync(cfg, COLO_CFG);
    const a = await cli(['domxml-from-native', 'xen-xl', cfg]);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(a.stdout, XML);
    const xml = join(dir, 'g.xml');
    writeFileSync(xml, a.stdout);
    const b = await cli(['domxml-to-native', 'xen-xl', xml]);
    assert.equal(b.status, 0, b.stderr);
    assert.equal(
      b.stdout,
      `name = "g"\nuuid = "${TEST_UUID}"\ntype = "hvm"\nmemory = 256\non_poweroff = "destroy"\non_reboot = "restart"\non_crash = "destroy"\n` +
        'disk = [ "format=raw,vdev=hda,access=rw,colo,colo-host=10.0.0.2,colo-port=9000,colo-export=e1,active-disk=/c/a.qcow2,hidden-disk=/c/h.qcow2,target=/img/a.raw" ]\n',
    );
  });

  it('names every key of the file it does not carry into the XML, and refuses PV guests', async () => {
    const cfg = join(dir, 'keys.cfg');
    writeFileSync(cfg, COLO_CFG + 'pae = 1\nvif = [ "bridge=xenbr0" ]\ncpus = "0-1"\n');
    const r = await cli(['domxml-from-native', 'xen-xl', cfg]);
    assert.equal(r.status, 0, r.stderr);
    const named = [...r.stderr.matchAll(/`(\w+)' is not converted and was ignored/g)].map((m) => m[1]);
    assert.deepEqual(named, ['pae', 'vif', 'cpus']);
    const pv = join(dir, 'pv.cfg');
    writeFileSync(pv, 'name = "p"\ntype = "pv"\nkernel = "/boot/vmlinuz"\nmemory = 256\n');
    const p = await cli(['domxml-from-native', 'xen-xl', pv]);
    assert.equal(p.status, 1);
    assert.match(p.stderr, /type = "pv" guests are not converted to libvirt XML yet/);
  });

  it('reports bad input on stderr with status 1, and usage errors with status 2', async () => {
    const bad = join(dir, 'bad.xml');
    writeFileSync(bad, XML.replace("vote-threshold='1'", "vote-threshold='3'"));
    const r = await cli(['domxml-to-native', 'xen-xl', bad]);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^colo-xl: .*bad\.xml: <colo:driver> \(line 9\): vote-threshold='3' cannot be expressed by colo-xl/);
    assert.equal((await cli(['domxml-to-native', 'xen-xm', bad])).status, 2);
    assert.equal((await cli(['domxml-from-native', 'xen-xl'])).status, 2);
    const extra = join(dir, 'extra.xml');
    writeFileSync(extra, XML.replace('<devices>', '<devices>\n    <emulator>/usr/bin/qemu</emulator>'));
    const e = await cli(['domxml-to-native', 'xen-xl', extra]);
    assert.equal(e.status, 0);
    assert.match(e.stderr, /<emulator> \(line \d+\) is not converted and was ignored/);
  });
});
