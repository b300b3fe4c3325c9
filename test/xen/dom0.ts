/**
 * The host's side of the request folder dom0's agent serves (recipe/dom0/agent.sh) over the 9p
 * share "ctl": a script goes in as req/ID.sh (by rename, so the agent never sees half of it), the
 * answer comes back as out/ID.out, out/ID.err and, last, out/ID.rc.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Dom0CommandError, Dom0StalledError, Dom0TimeoutError } from './errors.js';

export interface Dom0Result {
  status: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

export interface RunOptions {
  /** dom0 kills the script after this long (`timeout -k`); the host gives up a little later. */
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

/** The heredoc marker the host wraps scripts in; a script containing it is refused. */
const EOF_MARK = '__XEN_RIG_SCRIPT_END__';

/** The agent looks for requests every 0.3 s; one still waiting after this long means it is stuck. */
const PICKUP_SECONDS = 180;

export class Dom0Channel {
  private next = 0;
  /** What `unstick` reported each time it was needed, for the run's report. */
  readonly unstuck: string[] = [];

  /**
   * `diagnose` is asked, when the agent is stuck, for anything that says why (its text goes into
   * the error). `unstick`, when given, is tried once per request first: it may kill what holds
   * the agent up and answers what it did; the request then gets another pickup window.
   */
  constructor(
    readonly ctlDir: string,
    private readonly diagnose: () => Promise<string> = async () => '(no diagnosis)',
    private readonly unstick?: () => Promise<string>,
  ) {
    for (const d of ['req', 'run', 'out']) mkdirSync(join(ctlDir, d), { recursive: true });
  }

  /** True once the agent has announced itself (it writes agent.ready when it starts serving). */
  ready(): boolean {
    return existsSync(join(this.ctlDir, 'agent.ready'));
  }

  /** Runs a bash script in dom0 (cwd /root) and returns its status and output, whatever it is. */
  async run(script: string, opts: RunOptions = {}): Promise<Dom0Result> {
    if (script.includes(EOF_MARK)) throw new RangeError(`a dom0 script may not contain ${EOF_MARK}`);
    const limit = opts.timeoutSeconds ?? 300;
    const id = `${process.pid}-${Date.now()}-${this.next++}`;
    const req = join(this.ctlDir, 'req', `${id}.sh`);
    // The limit is enforced inside dom0 too, so a stuck command does not outlive the request.
    const wrapped = `timeout -k 5 ${limit} bash <<'${EOF_MARK}'\n${script}\n${EOF_MARK}\n`;
    writeFileSync(`${req}.tmp`, wrapped);
    renameSync(`${req}.tmp`, req);
    const out = (ext: string): string => join(this.ctlDir, 'out', `${id}.${ext}`);
    const t0 = performance.now();
    // Bounded by the limit plus slack for the agent's polling and 9p under a loaded TCG dom0.
    const deadline = t0 + (limit + 60) * 1000;
    let pickupBy = t0 + PICKUP_SECONDS * 1000;
    let unstuck = false;
    while (!existsSync(out('rc'))) {
      if (performance.now() > pickupBy && existsSync(req) && this.unstick && !unstuck) {
        unstuck = true;
        this.unstuck.push(await this.unstick());
        pickupBy = performance.now() + PICKUP_SECONDS * 1000;
      }
      if (performance.now() > pickupBy && existsSync(req)) {
        rmSync(req, { force: true });
        throw new Dom0StalledError(script, PICKUP_SECONDS, await this.diagnose());
      }
      if (performance.now() > deadline) {
        rmSync(req, { force: true });
        throw new Dom0TimeoutError(script, limit + 60);
      }
      await sleep(250, undefined, { signal: opts.signal });
    }
    const result: Dom0Result = {
      status: Number(readFileSync(out('rc'), 'utf8').trim()),
      stdout: readFileSync(out('out'), 'utf8'),
      stderr: readFileSync(out('err'), 'utf8'),
      seconds: (performance.now() - t0) / 1000,
    };
    for (const ext of ['rc', 'out', 'err']) rmSync(out(ext), { force: true });
    rmSync(join(this.ctlDir, 'run', `${id}.sh`), { force: true });
    return result;
  }

  /** As run, but a non-zero status is a Dom0CommandError; returns stdout. */
  async check(script: string, opts: RunOptions = {}): Promise<string> {
    const r = await this.run(script, opts);
    if (r.status !== 0) throw new Dom0CommandError(script, r.status, r.stdout, r.stderr);
    return r.stdout;
  }
}
