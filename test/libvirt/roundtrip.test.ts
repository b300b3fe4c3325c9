import assert from 'node:assert/strict';
import fc from 'fast-check';
import { domainConfigToXml, domainXmlToXlCfg } from '../../lib/libvirt/domxml.js';
import { parseCfg, TEST_UUID as UUID } from './support/cfg.js';
import { genConfig } from './support/gen.js';

describe('libvirt domain XML: cfg → XML → cfg round trip', () => {
  it('keeps every disk key, COLO keys included, over generated configs', () => {
    let colo = 0;
    let keysOnly = 0;
    fc.assert(
      fc.property(genConfig, ({ cfg }) => {
        const d1 = parseCfg(cfg);
        const xml = domainConfigToXml(d1);
        const back = domainXmlToXlCfg(xml);
        assert.deepEqual(back.ignored, []);
        const d2 = parseCfg(back.cfg);
        assert.deepEqual(d2.disks, d1.disks, `disks differ\n--- cfg\n${cfg}\n--- xml\n${xml}\n--- back\n${back.cfg}`);
        assert.equal(d2.c_info.name, d1.c_info.name);
        assert.equal(d2.c_info.uuid, d1.c_info.uuid);
        assert.equal(d2.b_info.max_memkb, d1.b_info.max_memkb);
        assert.equal(d2.b_info.target_memkb, d1.b_info.target_memkb);
        assert.deepEqual(d2.b_info.avail_vcpus, d1.b_info.avail_vcpus);
        assert.equal(d2.b_info.max_vcpus, d1.b_info.max_vcpus);
        assert.equal(d2.b_info.hvm.boot, d1.b_info.hvm.boot);
        // a second lap gives the same document: the conversion is a fixed point
        assert.equal(domainConfigToXml(d2), xml);
        if (xml.includes('<colo:secondary')) colo++;
        if (xml.includes('<colo:keys')) keysOnly++;
      }),
      { numRuns: 300, seed: 9001 },
    );
    // the generator must really exercise both COLO shapes
    assert.ok(colo > 50, `only ${colo} configs had a replication tree`);
    assert.ok(keysOnly > 50, `only ${keysOnly} configs had partial COLO keys`);
  });

  it('writes the standard parts as libvirt\'s xen-xl converter does', () => {
    const d = parseCfg(
      'name = "g"\nuuid = "' + UUID + '"\ntype = "hvm"\nmemory = 512\nmaxmem = 1024\nvcpus = 2\nmaxvcpus = 4\nboot = "dc"\n' +
        'disk = [ "/img/a.raw,raw,hda,w", "/img/b.qcow2,qcow2,xvdb,r", "phy:/dev/vg/x,sda,w,backendtype=phy", ",,hdc,cdrom" ]\n',
    );
    const xml = domainConfigToXml(d);
    const expect = [
      "<domain type='xen'>", '<name>g</name>', `<uuid>${UUID}</uuid>`, "<memory unit='KiB'>1048576</memory>",
      "<currentMemory unit='KiB'>524288</currentMemory>", "<vcpu placement='static' current='2'>4</vcpu>",
      "<type arch='x86_64' machine='xenfv'>hvm</type>", "<boot dev='cdrom'/>\n    <boot dev='hd'/>",
      "<disk type='file' device='disk'>\n      <driver name='qemu' type='raw'/>\n      <source file='/img/a.raw'/>\n      <target dev='hda' bus='ide'/>\n    </disk>",
      "<driver name='qemu' type='qcow2'/>\n      <source file='/img/b.qcow2'/>\n      <target dev='xvdb' bus='xen'/>\n      <readonly/>",
      "<disk type='block' device='disk'>\n      <driver name='phy' type='raw'/>\n      <source dev='/dev/vg/x'/>\n      <target dev='sda' bus='scsi'/>",
      "<disk type='file' device='cdrom'>\n      <driver name='qemu'/>\n      <target dev='hdc' bus='ide'/>\n      <readonly/>",
    ];
    for (const e of expect) assert.ok(xml.includes(e), `missing ${e}\n${xml}`);
    // the only thing a <disk> cannot say here: the CD-ROM's target is "" rather than absent
    const ext = xml.slice(xml.indexOf('<metadata>'), xml.indexOf('</metadata>'));
    assert.equal(ext.match(/<colo:disk /g)?.length, 1, ext);
    assert.ok(ext.includes("<colo:disk target='hdc' empty-source='yes'/>"), ext);
  });

  it('writes a COLO disk as the primary quorum, the hidden base and the secondary replication chain', () => {
    const d = parseCfg(
      'name = "g"\ntype = "hvm"\ndisk = [ "/img/a.raw,raw,hda,w,colo,colo-host=10.0.0.2,colo-port=9000,colo-export=e1,' +
        'active-disk=/c/a.qcow2,hidden-disk=/c/h.qcow2" ]\n',
    );
    const xml = domainConfigToXml(d);
    const want = `    <colo:replication xmlns:colo='urn:colo-xl:libvirt:colo:1'>
      <colo:disk target='hda' colo='on'>
        <colo:nbd host='10.0.0.2' port='9000' export='e1'/>
        <colo:primary type='quorum'>
          <colo:driver name='qemu' type='quorum' read-pattern='fifo' vote-threshold='1'/>
          <colo:backingStore type='file' index='1'>
            <colo:format type='raw'/>
            <colo:reference dev='hda' index='0'/>
          </colo:backingStore>
        </colo:primary>
        <colo:blockdev name='e1'>
          <colo:format type='raw'/>
          <colo:reference dev='hda' index='0'/>
        </colo:blockdev>
        <colo:secondary type='replication' mode='secondary'>
          <colo:backingStore type='file' index='1'>
            <colo:format type='qcow2'/>
            <colo:source file='/c/a.qcow2'/>
            <colo:backingStore type='file' index='2'>
              <colo:format type='qcow2'/>
              <colo:source file='/c/h.qcow2'/>
              <colo:backingStore type='blockdev' index='3'>
                <colo:reference blockdev='e1'/>
              </colo:backingStore>
            </colo:backingStore>
          </colo:backingStore>
        </colo:secondary>
      </colo:disk>
    </colo:replication>
`;
    assert.ok(xml.includes(want), xml);
    assert.match(domainXmlToXlCfg(xml).cfg, /colo,colo-host=10\.0\.0\.2,colo-port=9000,colo-export=e1,active-disk=\/c\/a\.qcow2,hidden-disk=\/c\/h\.qcow2,target=\/img\/a\.raw/);
  });

  it('reads the extension back whatever prefix and quoting libvirt re-serialises it with', () => {
    const d = parseCfg(
      'name = "g"\ntype = "hvm"\ndisk = [ "/img/a.qcow2,qcow2,sda,w,colo,colo-host=h,colo-port=1,colo-export=e1,' +
        'active-disk=/c/a.qcow2,hidden-disk=/c/h.qcow2" ]\n',
    );
    const xml = domainConfigToXml(d);
    const relabelled = xml.replaceAll('<colo:', '<r:').replaceAll('</colo:', '</r:').replace('xmlns:colo=', 'xmlns:r=').replaceAll("'", '"')
      .replace('<metadata>', '<metadata>\n    <app:x xmlns:app="urn:other"><app:y/></app:x>');
    assert.notEqual(relabelled, xml);
    assert.equal(domainXmlToXlCfg(relabelled).cfg, domainXmlToXlCfg(xml).cfg);
  });

  it('carries the lifecycle actions libvirt has words for', () => {
    const d = parseCfg('name = "g"\ntype = "hvm"\non_poweroff = "preserve"\non_reboot = "rename-restart"\non_crash = "coredump-restart"\n');
    const xml = domainConfigToXml(d);
    assert.ok(xml.includes('<on_poweroff>preserve</on_poweroff>\n  <on_reboot>rename-restart</on_reboot>\n  <on_crash>coredump-restart</on_crash>'), xml);
    const d2 = parseCfg(domainXmlToXlCfg(xml).cfg);
    assert.deepEqual([d2.on_poweroff, d2.on_reboot, d2.on_crash], ['preserve', 'restart_rename', 'coredump_restart']);
  });

  it('escapes what XML and xl.cfg cannot carry raw, and brings it back', () => {
    const path = `/img/a&b<c>'d"e f,g=h`;
    const d = parseCfg(`name = "g"\ntype = "hvm"\ndisk = [ ${JSON.stringify(`vdev=hda,access=w,script=s&<>'x,target=${path}`)} ]\n`);
    const xml = domainConfigToXml(d);
    assert.ok(xml.includes(`<source file='/img/a&amp;b&lt;c&gt;&apos;d&quot;e f,g=h'/>`), xml);
    assert.ok(xml.includes(`script='s&amp;&lt;&gt;&apos;x'`), xml);
    const d2 = parseCfg(domainXmlToXlCfg(xml).cfg);
    assert.equal(d2.disks[0]!.pdev_path, path);
    assert.equal(d2.disks[0]!.script, `s&<>'x`);
  });
});
