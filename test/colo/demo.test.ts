import assert from 'node:assert/strict';
import { cli } from '../support/cli.js';
import { pickAccel, requireQemu } from '../support/qemu.js';
import { scaled } from '../support/slowness.js';

describe(`colo-xl demo (real QEMUs, accel ${pickAccel()})`, function () {
  this.timeout(scaled(60_000));
  before(() => requireQemu());

  it('--json: set-up, checkpoints, SIGKILL, failover, and a passing block-by-block verdict', async () => {
    const run = await cli(['demo', '--json']);
    assert.equal(run.stderr, '');
    assert.equal(run.status, 0);
    const r = JSON.parse(run.stdout) as {
      kind: string;
      verdict: string;
      accel: string;
      setupMs: number;
      checkpointMs: number[];
      failoverMs: number;
      blocks: { checked: number; matching: number; bad: number[] };
      identical: boolean;
      steps: Array<{ name: string; detail: string }>;
    };
    assert.equal(r.kind, 'result');
    assert.equal(r.verdict, 'pass');
    assert.equal(r.accel, pickAccel());
    assert.deepEqual(r.blocks, { checked: 32, matching: 32, bad: [] });
    assert.equal(r.identical, true);
    assert.equal(r.checkpointMs.length, 3);
    assert.ok(r.failoverMs > 0 && r.failoverMs < scaled(10_000));
    const xs = r.steps.find((s) => s.name === 'xenstore');
    assert.match(xs?.detail ?? '', /^vbd 768 of domains 1 and 2 \(backend qdisk\) with colo-host 127\.0\.0\.1:\d+, colo-export e1, read back$/);
    const dm = r.steps.find((s) => s.name === 'device models');
    assert.match(dm?.detail ?? '', /driver=replication,mode=secondary,top-id=top-colo,/);
    assert.deepEqual(
      r.steps.map((s) => s.name).filter((n) => ['kill primary', 'failover', 'verify online', 'verify offline'].includes(n)),
      ['kill primary', 'failover', 'verify online', 'verify offline'],
    );
  });

  it('refuses unknown arguments', async () => {
    const r = await cli(['demo', '--bogus']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^colo-xl demo: unknown option --bogus\n\nUsage: colo-xl demo \[--json\]\n/);
  });
});
