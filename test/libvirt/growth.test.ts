/**
 * libvirt domain XML that grows without bound (issue 12 §8): nesting deeper than libvirt's parser
 * reads is refused with a typed error naming the place, never a JS stack overflow, and a document
 * costs time linear in its size. libxml2 (xmllint, the parser libvirt uses, without
 * XML_PARSE_HUGE) is the judge of where the depth limit lies.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CapturedIo } from '../../cli/io.js';
import { main } from '../../cli/main.js';
import { domainXmlToXlCfg } from '../../lib/libvirt/domxml.js';
import { parseXml, XML_MAX_DEPTH, XmlError } from '../../lib/libvirt/xml.js';
import { requireFile } from '../support/require-tool.js';

const nested = (levels: number): string => '<a>'.repeat(levels) + '</a>'.repeat(levels);
const domain = (metadata: string): string =>
  `<domain type='xen'>\n  <name>g</name>\n  <metadata>\n${metadata}\n  </metadata>\n</domain>\n`;

describe('libvirt domain XML that grows without bound', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'colo-xl-xml-growth-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const levels of [XML_MAX_DEPTH, XML_MAX_DEPTH + 1, XML_MAX_DEPTH + 2, 5000]) {
    it(`reads a document ${levels} deep as libxml2 does without XML_PARSE_HUGE`, () => {
      const xmllint = requireFile('/usr/bin/xmllint', 'libxml2-utils');
      const path = join(dir, `d${levels}.xml`);
      writeFileSync(path, nested(levels));
      const lint = spawnSync(xmllint, ['--noout', path], { encoding: 'utf8' });
      let mine: unknown = null;
      try {
        parseXml(nested(levels));
      } catch (e) {
        mine = e;
      }
      assert.equal(mine === null, lint.status === 0, `${levels} levels: xmllint says ${lint.status}: ${lint.stderr.split('\n')[0]}`);
      if (mine !== null) {
        assert.ok(mine instanceof XmlError, String(mine));
        assert.match(lint.stderr, /Excessive depth in document: 256/);
        assert.match(mine.message, /^bad XML at line 1, column \d+: excessive depth in document: <a> has 257 open ancestors; libvirt's XML parser \(libxml2\) allows 256$/);
      }
    });
  }

  for (const levels of [5000, 100_000]) {
    it(`domxml-to-native on a document nested ${levels} deep: one line on stderr, status 1`, async () => {
      const path = join(dir, `deep${levels}.xml`);
      writeFileSync(path, domain(nested(levels)));
      const io = new CapturedIo();
      const status = await main(['domxml-to-native', 'xen-xl', path], io, {});
      assert.equal(status, 1);
      assert.equal(io.stdout, '');
      assert.match(io.stderr, /^colo-xl: .*deep\d+\.xml: bad XML at line 4, column \d+: excessive depth in document: <a> has 257 open ancestors/);
      assert.equal(io.stderr.split('\n').length, 2, io.stderr.slice(0, 300));
    });
  }

  it('the depth limit counts the domain\'s own elements too', () => {
    // The limit counts the domain's own elements too: <domain><metadata> are two of the 256.
    assert.doesNotThrow(() => parseXml(domain(nested(XML_MAX_DEPTH - 1))));
    assert.throws(() => domainXmlToXlCfg(domain(nested(XML_MAX_DEPTH))), XmlError);
  });

  it('parse time grows linearly with the number of elements (line numbers included)', () => {
    const wide = (n: number): string => `<r>\n${'  <e a="1">t</e>\n'.repeat(n)}</r>\n`;
    const best = (src: string): number => {
      let t = Infinity;
      for (let k = 0; k < 3; k++) {
        const t0 = performance.now();
        const root = parseXml(src);
        t = Math.min(t, performance.now() - t0);
        assert.equal(root.children.at(-1)!.line, root.children.length + 1);
      }
      return t;
    };
    best(wide(5_000)); // warm the JIT
    const ratio = best(wide(80_000)) / best(wide(20_000));
    assert.ok(ratio < 10, `4x the elements took ${ratio.toFixed(1)}x the time`);
  });
});
