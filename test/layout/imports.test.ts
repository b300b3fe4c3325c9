import assert from 'node:assert/strict';
import { cycles, importGraph, partOf, upwardImports } from '../support/import-graph.js';

describe('the import graph of lib/ and cli/', () => {
  const g = importGraph();

  it('has no cycle, type-only imports included', () => {
    assert.deepEqual(cycles(g), []);
  });

  it('has no import up the house (lib/ never reaches cli/; each part only its own rank or lower)', () => {
    assert.deepEqual(upwardImports(g), []);
  });

  it('reaches no test or lab code from the library', () => {
    const bad = [...g].flatMap(([f, deps]) => (f.startsWith('lib/') ? deps.filter((d) => !d.startsWith('lib/') && !d.startsWith('grammar/')).map((d) => `${f} -> ${d}`) : []));
    assert.deepEqual(bad, []);
  });

  it("keeps colo-xl/xenstore to the client: importing it loads nothing outside lib/xenstore's client, lib/util and lib/errors.ts", () => {
    const seen = new Set<string>();
    const walk = (f: string): void => {
      if (seen.has(f)) return;
      seen.add(f);
      for (const d of g.get(f) ?? []) walk(d);
    };
    walk('lib/xenstore/index.ts');
    const outside = [...seen].filter((f) => f.startsWith('lib/xenstore/server/') || !['lib/xenstore', 'lib/util', 'lib/errors.ts'].includes(partOf(f)!));
    assert.deepEqual(outside, []);
  });
});
