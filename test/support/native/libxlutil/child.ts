/**
 * Child process for specs that may jam libxlu's flex scanner (which then prints
 * "flex scanner jammed" on stderr and calls exit(2)). Reads a JSON job on stdin and writes one
 * JSON line per disk to stdout as soon as it is done, each report going unbuffered to
 * `<reportDir>/<index>`, so the parent can tell which disk killed it and what was printed before.
 */
import { readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseToFile } from './ffi.js';

export interface ChildJob {
  source: string;
  reportDir: string;
  /** Index of the first disk in `disks` (names the report files). */
  first: number;
  disks: string[][];
}

export interface ChildLine {
  index: number;
  rc: number;
  json: string | null; // base64 of the JSON bytes
}

const job = JSON.parse(readFileSync(0, 'utf8')) as ChildJob;
job.disks.forEach((specs, i) => {
  const index = job.first + i;
  const out = parseToFile(specs, job.source, join(job.reportDir, String(index)));
  const line: ChildLine = { index, rc: out.rc, json: out.jsonBytes ? out.jsonBytes.toString('base64') : null };
  writeSync(1, JSON.stringify(line) + '\n');
});
