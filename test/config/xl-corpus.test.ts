import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli as runColoXl } from '../support/cli.js';
import { Rng } from './support/config-gen.js';
import { CORPUS_KEYS, generateCorpusConfig } from './support/corpus-gen.js';
import { describeMismatch, realXlSession, sameResult } from './support/xl-session.js';
import { requireFile } from '../support/require-tool.js';

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(here, 'fixtures');
const CORPUS_SIZE = 1000;

describe('xl.cfg with PV, PVH, vif and the platform keys: byte-identical to Xen 4.17 xl -N create', function () {
  this.timeout(300_000);
  const session = realXlSession('colo-xl-corpus-');

  it('hand-written real-world configs (pygrub PV, PVH kernel, COLO NIC, Windows HVM, PV-GRUB, legacy PV)', async () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.cfg'));
    assert.ok(files.length >= 6);
    const bad: string[] = [];
    for (const f of files) {
      const path = join(FIXTURES, f);
      const [real, mine] = await Promise.all([session.xl.run(['-N', 'create', path]), runColoXl(['-N', 'create', path])]);
      // Each one is a config xl accepts: a refusal here would mean the fixture is wrong.
      assert.equal(real.status, 0, `${f}: ${real.stderr}`);
      if (!sameResult(real, mine)) bad.push(describeMismatch(f, '', real, mine));
    }
    assert.deepEqual(bad, []);
  });

  it("Xen's own examples shipped in /etc/xen (xlexample.hvm, .pvlinux, .pvhlinux)", async () => {
    const bad: string[] = [];
    for (const name of ['xlexample.hvm', 'xlexample.pvlinux', 'xlexample.pvhlinux']) {
      const path = `/etc/xen/${name}`;
      requireFile(path, 'xen-utils-common');
      // A fixed uuid, so the two outputs can be compared.
      const args = ['-N', 'create', path, 'uuid="12345678-1234-1234-1234-123456789abc"'];
      const [real, mine] = await Promise.all([session.xl.run(args), runColoXl(args)]);
      if (!sameResult(real, mine)) bad.push(describeMismatch(name, '', real, mine));
    }
    assert.deepEqual(bad, []);
  });

  it(`${CORPUS_SIZE} generated configs over every ported key, good and bad values`, async () => {
    const rng = new Rng(20261203);
    const jobs = Array.from({ length: CORPUS_SIZE }, (_, i) => {
      const text = generateCorpusConfig(rng);
      const path = join(session.dir, `c${i}.cfg`);
      writeFileSync(path, text);
      return { path, text };
    });
    const bad: string[] = [];
    const statuses = new Map<number | null, number>();
    const printedKeys = new Set<string>();
    for (let i = 0; i < jobs.length; i += 2) {
      await Promise.all(jobs.slice(i, i + 2).map(async (j) => {
        const [real, mine] = await Promise.all([session.xl.run(['-N', 'create', j.path]), runColoXl(['-N', 'create', j.path])]);
        statuses.set(real.status, (statuses.get(real.status) ?? 0) + 1);
        if (real.status === 0) for (const m of j.text.matchAll(/^(\w+) ?=/gm)) printedKeys.add(m[1]!);
        if (!sameResult(real, mine)) bad.push(describeMismatch(j.path, j.text, real, mine));
      }));
    }
    assert.equal(bad.length, 0, `${bad.length} of ${CORPUS_SIZE} differ; first:\n${bad.slice(0, 3).join('\n')}`);
    // The corpus must reach xl's JSON often, and with every key, not only its refusals.
    assert.ok((statuses.get(0) ?? 0) >= CORPUS_SIZE / 4, `accepted: ${statuses.get(0)}`);
    assert.ok((statuses.get(1) ?? 0) >= CORPUS_SIZE / 10, `refused: ${statuses.get(1)}`);
    assert.equal(statuses.get(null), undefined, 'xl crashed on a generated config');
    assert.deepEqual(CORPUS_KEYS.filter((k) => !printedKeys.has(k)), []);
  });
});
