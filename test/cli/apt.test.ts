import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aptInstall, aptRootCommand, type AptRunner } from '../../cli/lab/apt.js';
import { tcgReason } from '../../cli/commands/demo.js';

/** A scripted apt-get: answers each call from the list, records the arguments. */
function fakeApt(...answers: number[]): { run: AptRunner; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    run: (args) => {
      calls.push(args.join(' '));
      const status = answers.shift() ?? 0;
      return { status, stdout: '', stderr: status ? `E: Unable to locate package ${args.at(-1)}` : '' };
    },
  };
}

describe('installing Debian packages on a fresh machine (cli/lab/apt, tools/apt.sh)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'colo-xl-apt-'));
  const empty = join(dir, 'empty');
  const full = join(dir, 'full');
  before(() => {
    mkdirSync(empty);
    mkdirSync(full);
    writeFileSync(join(full, 'deb.example_debian_dists_bookworm_main_binary-amd64_Packages.lz4'), '');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('updates first when the package lists are empty', () => {
    const apt = fakeApt(0, 0);
    assert.equal(aptInstall(['qemu-utils'], { run: apt.run, listsDir: empty }), null);
    assert.deepEqual(apt.calls, ['update', 'install -y --no-install-recommends qemu-utils']);
  });

  it('updates and tries once more when an install fails on stale lists', () => {
    const apt = fakeApt(100, 0, 0);
    assert.equal(aptInstall(['qemu-utils'], { run: apt.run, listsDir: full }), null);
    assert.deepEqual(apt.calls, ['install -y --no-install-recommends qemu-utils', 'update', 'install -y --no-install-recommends qemu-utils']);
  });

  it("fails with apt's own words, naming the package, after one retry", () => {
    const apt = fakeApt(0, 100);
    assert.match(aptInstall(['no-such-pkg'], { run: apt.run, listsDir: empty }) ?? '', /Unable to locate package no-such-pkg/);
    assert.equal(apt.calls.length, 2);
  });

  it('tells a non-root user the command for root: sudo when present, else su -c', () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    assert.equal(aptRootCommand(['qemu-utils'], { PATH: bin }), "su -c 'apt-get update && apt-get install -y --no-install-recommends qemu-utils'");
    writeFileSync(join(bin, 'sudo'), '#!/bin/sh\n');
    chmodSync(join(bin, 'sudo'), 0o755);
    assert.match(aptRootCommand(['qemu-utils'], { PATH: bin }), /^sudo sh -c 'apt-get update && /);
  });

  it('says why KVM is not used', () => {
    assert.equal(tcgReason({ COLO_XL_ACCEL: 'tcg' }), 'COLO_XL_ACCEL=tcg asks for it');
    assert.match(tcgReason({}, join(dir, 'no-kvm')) ?? '', /does not exist on this machine/);
  });

  it('tools/apt.sh: nothing to do when every package is installed; the root command otherwise', () => {
    const sh = (script: string) => spawnSync('bash', ['-c', `. tools/apt.sh; ${script}`], { encoding: 'utf8' });
    assert.equal(sh('apt_ensure bash coreutils').status, 0);
    const r = sh('apt_missing bash colo-xl-no-such-package');
    assert.equal(r.stdout, 'colo-xl-no-such-package\n');
  });
});
