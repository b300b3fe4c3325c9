import assert from 'node:assert/strict';
import { parseCheckpoints, runDrill, type DrillSummary } from '../../cli/lab/drill.js';
import { verifyDisk, type WriteRecord } from '../../cli/lab/load.js';
import { testQemus } from '../support/qemu.js';
import { qemuSuiteDir } from '../support/colo-pair.js';
import { SLOWNESS, scaled } from '../support/slowness.js';

/**
 * The drill's own limits and the heartbeat deadline (50 ms × 3 on an idle host) stretch with the
 * measured slowness: a starved agent must not declare a live peer lost and fail over under it.
 */
const timing = { timeScale: SLOWNESS, missCount: scaled(3) };

/** Runs per victim here; `colo-xl colo drill --runs 50` (and the benchmark) do the full 50. */
const RUNS = Number(process.env.COLO_XL_DRILL_RUNS ?? 2);

describe('loss-free drill: write load, SIGKILL at a random moment, automatic failover, disk checked byte for byte', function () {
  this.timeout(scaled(120_000));
  const dir = qemuSuiteDir('colo-xl-drill-');

  const describeRuns = (s: DrillSummary): string =>
    s.results.map((r) => `#${r.n} ${r.ok ? 'ok' : 'FAIL'} ${r.error ?? r.verdict?.problems.slice(0, 3).join('; ') ?? ''}`).join('\n');

  it('verifyDisk: present, absent, torn and stray blocks', () => {
    const raw = Buffer.alloc(4 * 4096);
    raw.fill(1, 0, 4096);
    raw.fill(3, 2 * 4096, 2 * 4096 + 100);
    raw.fill(9, 3 * 4096, 3 * 4096 + 1);
    const w = (block: number, pattern: number): WriteRecord => ({ block, pattern, sentAt: 0 });
    const v = verifyDisk(raw, [w(0, 1), w(1, 2), w(2, 3)], (x) => (x.block === 0 ? 'must' : x.block === 1 ? 'mustNot' : 'either'));
    assert.deepEqual(v.problems, ['block 2: torn or foreign content', 'block 3: written by nobody, not zero']);
    assert.deepEqual([v.mustHave, v.mustNotHave, v.either, v.present], [1, 1, 1, 1]);
  });

  it('parseCheckpoints reads the timestamped trace', () => {
    const t = "1@100.5:colo_send_message Send 'vmstate-send' message\n1@100.75:colo_receive_message Receive 'vmstate-loaded' message\n1@101.000001:colo_send_message Send 'vmstate-send' message\n";
    assert.deepEqual(parseCheckpoints(t), [{ vmstateSend: 100500, loaded: 100750 }, { vmstateSend: 101000.001 }]);
  });

  it(`primary killed ${RUNS}×: the survivor holds exactly the last completed checkpoint`, async () => {
    const s = await runDrill({ qemus: testQemus, dir, victim: 'primary', runs: RUNS, ...timing });
    assert.equal(s.passed, RUNS, describeRuns(s));
    assert.ok(s.writes > 0 && s.acked > 0);
    for (const r of s.results) assert.ok(r.verdict!.mustNotHave + r.verdict!.mustHave > 0);
  });

  it(`secondary killed ${RUNS}×: the primary fails no write and holds every one`, async () => {
    const s = await runDrill({ qemus: testQemus, dir, victim: 'secondary', runs: RUNS, ...timing });
    assert.equal(s.passed, RUNS, describeRuns(s));
    assert.equal(s.failedWrites, 0);
    assert.equal(s.acked, s.writes);
  });
});
