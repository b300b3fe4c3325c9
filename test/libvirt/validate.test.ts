import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { domainConfigToXml } from '../../lib/libvirt/domxml.js';
import { requireFile } from '../support/require-tool.js';
import { genConfig } from './support/gen.js';
import { parseCfg } from './support/cfg.js';

const VIRT_XML_VALIDATE = '/usr/bin/virt-xml-validate';
const XMLLINT = '/usr/bin/xmllint';
const LIBVIRT_DOMAIN_RNG = '/usr/share/libvirt/schemas/domain.rng';
const COLO_RNG = fileURLToPath(new URL('../../schema/colo-replication.rng', import.meta.url));

function run(cmd: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('libvirt domain XML: schema validation', () => {
  let dir: string;
  before(() => {
    // Debian 12: libvirt-clients ships virt-xml-validate, libvirt0 (its dependency) the schemas,
    // libxml2-utils xmllint.
    requireFile(VIRT_XML_VALIDATE, 'libvirt-clients');
    requireFile(LIBVIRT_DOMAIN_RNG, 'libvirt0 (pulled in by libvirt-clients)');
    requireFile(XMLLINT, 'libxml2-utils');
    dir = mkdtempSync(join(tmpdir(), 'colo-xl-domxml-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('every generated document passes libvirt\'s own domain schema and colo-xl\'s COLO schema', function () {
    this.timeout(60000);
    const configs = fc.sample(genConfig, { numRuns: 120, seed: 4242 });
    const files: string[] = [];
    let trees = 0;
    configs.forEach(({ cfg }, i) => {
      const xml = domainConfigToXml(parseCfg(cfg));
      if (xml.includes('<colo:secondary')) trees++;
      const f = join(dir, `d${i}.xml`);
      writeFileSync(f, xml);
      files.push(f);
    });
    assert.ok(trees > 20, `only ${trees} documents had replication trees`);
    for (const f of files) {
      const r = run(VIRT_XML_VALIDATE, [f, 'domain']);
      assert.equal(r.status, 0, `virt-xml-validate refused ${f}:\n${r.out}`);
      assert.match(r.out, /validates/);
    }
    const r = run(XMLLINT, ['--noout', '--relaxng', COLO_RNG, ...files]);
    assert.equal(r.status, 0, `xmllint --relaxng refused:\n${r.out}`);
    assert.equal(r.out.match(/ validates$/gm)?.length, files.length);
  });

  it('the COLO schema refuses a tree colo-xl cannot express, and libvirt refuses the extension inside <disk>', () => {
    const xml = domainConfigToXml(
      parseCfg(
        'name = "g"\ntype = "hvm"\ndisk = [ "/img/a.raw,raw,hda,w,colo,colo-host=h,colo-port=9000,colo-export=e1,' +
          'active-disk=/c/a.qcow2,hidden-disk=/c/h.qcow2" ]\n',
      ),
    );
    const bad = join(dir, 'bad-colo.xml');
    writeFileSync(bad, xml.replace("<colo:format type='qcow2'/>", "<colo:format type='raw'/>"));
    const r = run(XMLLINT, ['--noout', '--relaxng', COLO_RNG, bad]);
    assert.notEqual(r.status, 0, r.out);
    assert.match(r.out, /fails to validate/);
    // libvirt's own schema does not look inside <metadata>, which is why the extension lives there
    assert.equal(run(VIRT_XML_VALIDATE, [bad, 'domain']).status, 0);
    const inDisk = join(dir, 'in-disk.xml');
    writeFileSync(inDisk, xml.replace("<target dev='hda' bus='ide'/>", "<target dev='hda' bus='ide'/><colo:x xmlns:colo='urn:colo-xl:libvirt:colo:1'/>"));
    assert.notEqual(run(VIRT_XML_VALIDATE, [inDisk, 'domain']).status, 0);
  });
});
