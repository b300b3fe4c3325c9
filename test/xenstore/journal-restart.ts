// Run as its own process by journal.test.ts: opens the journal named on the command line the way
// a restarting daemon does, and prints how long that took and a digest of the tree (one JSON line).
import { EmbeddedXenstored } from '../../lib/xenstore/server/embedded.js';
import { treeDigest } from './journal-digest.js';

const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
const d = new EmbeddedXenstored({ statePath: process.argv[2]! });
const cpu = process.cpuUsage(cpu0);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
const out = { ms, cpuMs: (cpu.user + cpu.system) / 1000, ...treeDigest(d.core.store) };
void d.close().then(() => process.stdout.write(`${JSON.stringify(out)}\n`));
