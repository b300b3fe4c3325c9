import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { requireFile } from '../support/require-tool.js';

const manDir = join(import.meta.dirname, '..', '..', 'man');

describe('man pages', () => {
  for (const page of readdirSync(manDir).filter((f) => /\.\d$/.test(f))) {
    it(`${page} renders with man -l and no warnings`, () => {
      requireFile('/usr/bin/man', 'man-db');
      const r = spawnSync('man', ['--warnings', '-l', join(manDir, page)], {
        encoding: 'utf8',
        env: { ...process.env, MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '80', LC_ALL: 'C.UTF-8' },
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '', `warnings from ${page}`);
      assert.match(r.stdout, /NAME/);
    });
  }
});
