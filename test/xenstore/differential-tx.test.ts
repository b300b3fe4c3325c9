/**
 * Differential proof of the watch events a transaction commit fires (xenstored_transaction.c:
 * finalize_transaction): hand-written two-connection sessions run against Xen 4.17's C
 * xenstored and `colo-xl xenstored`, whose packet streams must match. Each session is a case
 * the random sessions of differential.test.ts once found, or a rule next to one.
 */
import assert from 'node:assert/strict';
import { XsClient } from '../../lib/xenstore/client.js';
import { XsError, XsOp, type XsPerm } from '../../lib/xenstore/messages.js';
import { EmbeddedXenstored } from '../../lib/xenstore/server/embedded.js';
import { openGuestPairs, type GuestPairs } from '../support/guest-xenstore.js';
import { startRealXenstored } from '../support/real-xenstored.js';
import { useDaemonPair } from './cli-daemon.js';
import { openSession, payloadOf, txIdOf } from './session-rig.js';
import { eventWithin } from './watch-wait.js';

/** [connection (0 = A, 1 = B), op, args, inside A's open transaction]. */
type Step = [k: 0 | 1, op: keyof typeof XsOp, args: string[], inTx?: 'tx'];

async function runScript(socket: string, steps: readonly Step[]): Promise<string[]> {
  const s = await openSession(socket);
  let tx = 0;
  try {
    for (const [k, op, args, inTx] of steps) {
      const type = XsOp[op];
      const reply = await s.send(k, type, payloadOf(type, args), inTx ? tx : 0);
      if (type === XsOp.TRANSACTION_START) tx = txIdOf(reply);
    }
  } finally {
    await s.close();
  }
  return s.transcript();
}

/** Leaves both daemons as the session found them. */
const cleanup: Step[] = [
  [1, 'RM', ['/r']],
  [1, 'RM', ['rel']],
  [0, 'RESET_WATCHES', ['']],
];

const sessions: Record<string, Step[]> = {
  // Random session seed 937006: /r/a is gone when the transaction first looks, is created
  // (WRITE below it), removed (RM) and created again (MKDIR below it). C fires for it at
  // commit because it exists afterwards; the nodes under /r/a/b that were created and removed
  // again fire nothing, although watched.
  'a node removed and created again inside the transaction fires; one created and removed does not': [
    [0, 'WRITE', ['/r/a/b/c/d/e', 'v']],
    [0, 'WATCH', ['/r/a', 'tok-a']],
    [0, 'WATCH', ['/r/a/b/c', 'tok-c']],
    [0, 'WATCH', ['/r/a/b/c/d/e', 'tok-e']],
    [0, 'WATCH', ['rel/a', 'tok-rel']],
    [1, 'RM', ['/r/a']],
    [0, 'TRANSACTION_START', ['']],
    [0, 'WRITE', ['/r/a/b/c', ''], 'tx'],
    [0, 'RM', ['/r/a'], 'tx'],
    [0, 'MKDIR', ['/r/a/b'], 'tx'],
    [0, 'MKDIR', ['/r/a'], 'tx'],
    [0, 'WRITE', ['rel/a', 'x'], 'tx'],
    [0, 'TRANSACTION_END', ['T'], 'tx'],
    [0, 'DIRECTORY', ['/r/a']],
  ],
  'a node that existed fires when the transaction removes it; a new branch removed again is silent': [
    [0, 'WRITE', ['/r/old', 'v']],
    [0, 'WATCH', ['/r', 'tok-r']],
    [0, 'WATCH', ['/r/new/deep', 'tok-deep']],
    [0, 'TRANSACTION_START', ['']],
    [0, 'WRITE', ['/r/new/deep', '1'], 'tx'],
    [0, 'RM', ['/r/new'], 'tx'],
    [0, 'RM', ['/r/old'], 'tx'],
    [0, 'RM', ['/r/never'], 'tx'],
    [0, 'TRANSACTION_END', ['T'], 'tx'],
  ],
  'events come in the order the transaction first accessed the nodes, reads and misses included': [
    [0, 'WRITE', ['/r/p', '1']],
    [0, 'WRITE', ['/r/q', '1']],
    [0, 'WATCH', ['/r', 'tok-r']],
    [0, 'TRANSACTION_START', ['']],
    [0, 'READ', ['/r/q'], 'tx'],
    [0, 'READ', ['/r/missing'], 'tx'],
    [0, 'DIRECTORY', ['/r/p'], 'tx'],
    [0, 'WRITE', ['/r/z/deep', '0'], 'tx'],
    [0, 'WRITE', ['/r/p', '2'], 'tx'],
    [0, 'MKDIR', ['/r/missing'], 'tx'],
    [0, 'SET_PERMS', ['/r/q', 'n0', 'r1'], 'tx'],
    [0, 'TRANSACTION_END', ['T'], 'tx'],
  ],
  'a node’s commit event is exact only if every change to it was (queue_watches)': [
    [0, 'WRITE', ['/r/a/b/c', '1']],
    [0, 'WRITE', ['/r/k/b/c', '1']],
    [0, 'WATCH', ['/r', 'tok-r']],
    [0, 'WATCH', ['/r/a/b', 'tok-ab']],
    [0, 'WATCH', ['/r/k/b', 'tok-kb']],
    [0, 'TRANSACTION_START', ['']],
    // /r/a/b: written, then removed below /r/a (exact): the write wins, every watch above hears it
    [0, 'WRITE', ['/r/a/b', '2'], 'tx'],
    [0, 'RM', ['/r/a'], 'tx'],
    // /r/k/b: removed below /r/k only: exact, so only the watch on /r/k/b hears it
    [0, 'RM', ['/r/k'], 'tx'],
    [0, 'TRANSACTION_END', ['T'], 'tx'],
  ],
  'no events from a transaction that is abandoned or conflicts': [
    [0, 'WRITE', ['/r/x', '1']],
    [0, 'WATCH', ['/r', 'tok-r']],
    [0, 'TRANSACTION_START', ['']],
    [0, 'WRITE', ['/r/x', '2'], 'tx'],
    [0, 'RM', ['/r/x'], 'tx'],
    [0, 'TRANSACTION_END', ['F'], 'tx'],
    [0, 'TRANSACTION_START', ['']],
    [0, 'READ', ['/r/x'], 'tx'],
    [0, 'WRITE', ['/r/y', '2'], 'tx'],
    [1, 'WRITE', ['/r/x', 'other']],
    [0, 'TRANSACTION_END', ['T'], 'tx'],
  ],
};

const GUEST = 7;
const perms = (...spec: Array<[number, XsPerm['access']]>): XsPerm[] => spec.map(([domid, access]) => ({ domid, access }));

/**
 * dom0 changes nodes of different permissions under /g, which the guest may read, while the
 * guest watches /g: which events reach it is watch_permitted's rule (old permissions, then the
 * node's, then its parent's), directly and at a transaction's commit. Returns what it heard.
 */
async function guestWatchSession(dom0: XsClient, guest: XsClient): Promise<string[]> {
  const heard: string[] = [];
  const w = await guest.watch('/g', 'tok');
  // The guest's own round trip: events queued before it arrive ahead of its reply.
  const drain = async (label: string): Promise<void> => {
    await guest.getDomainPath(0);
    for (let e = await eventWithin(w, 0); e; e = await eventWithin(w, 0)) heard.push(`${label}: ${e.path}`);
    heard.push(`${label} done`);
  };
  await drain('initial');
  const steps: Array<[string, () => Promise<unknown>]> = [
    ['write unreadable node, readable parent', async () => {
      await dom0.write('/g/hidden', 'v');
      await dom0.setPerms('/g/hidden', perms([0, 'none']));
      await dom0.write('/g/hidden', 'v2');
    }],
    ['revoke read', async () => {
      await dom0.mkdir('/g/x');
      await dom0.setPerms('/g/x', perms([0, 'none']));
    }],
    ['write below an unreadable parent', () => dom0.write('/g/x/y', 'v')],
    ['rm of an unreadable branch', () => dom0.rm('/g/x')],
    ['transaction writes an unreadable node', () => dom0.transaction(async (tx) => tx.write('/g/hidden', 'v3'))],
    ['transaction creates below an unreadable parent and grants', () =>
      dom0.transaction(async (tx) => {
        await tx.mkdir('/g/h2');
        await tx.setPerms('/g/h2', perms([0, 'none']));
        await tx.write('/g/h2/deep', 'v');
        await tx.setPerms('/g/h2/deep', perms([0, 'none'], [GUEST, 'read']));
      })],
    ['transaction removes what the guest could read', () =>
      dom0.transaction(async (tx) => {
        await tx.setPerms('/g', perms([0, 'none']));
        await tx.rm('/g/hidden');
      })],
  ];
  for (const [label, f] of steps) {
    await f();
    await drain(label);
  }
  return heard;
}

describe('differential: transaction commit watch events, C xenstored 4.17 vs colo-xl xenstored', function () {
  this.timeout(120_000);
  const pair = useDaemonPair('colo-xl-difftx-');

  for (const [name, steps] of Object.entries(sessions)) {
    it(name, async () => {
      const script = [...steps, ...cleanup];
      const [a, b] = [await runScript(pair.realSocket, script), await runScript(pair.ourSocket, script)];
      // The session must show what it is about: some watch event after the commit.
      assert.ok(a.some((l) => l.includes('WATCH_EVENT')), a.join('\n'));
      assert.deepEqual(b, a);
    });
  }
});

describe('differential: which watch events reach an unprivileged guest, C xenstored 4.17 vs colo-xl', function () {
  this.timeout(120_000);

  it('a guest hears a change it may see by the old, the node’s or the parent’s permissions, and no other', async () => {
    const c = await startRealXenstored();
    const embedded = new EmbeddedXenstored();
    let pairs: GuestPairs | undefined;
    try {
      pairs = await openGuestPairs(c, embedded, GUEST);
      const [[theirs, theirGuest], [ours, ourGuest]] = [pairs.theirs, pairs.ours];
      for (const x of [theirs, ours]) {
        await x.mkdir('/g');
        await x.setPerms('/g', perms([0, 'none'], [GUEST, 'read']));
      }
      const a = await guestWatchSession(theirs, theirGuest);
      const b = await guestWatchSession(ours, ourGuest);
      // The parent rule must show: the unreadable /g/hidden is heard through /g.
      assert.ok(a.includes('write unreadable node, readable parent: /g/hidden'), a.join('\n'));
      assert.deepEqual(b, a);
    } finally {
      await pairs?.close();
      await embedded.close();
      await c.stop();
    }
  });
});

describe('differential: how a guest’s transaction ends after a refused change, C xenstored 4.17 vs colo-xl', function () {
  this.timeout(120_000);
  const HOME = `/local/domain/${GUEST}`;

  /** One guest request; START opens the transaction the later steps run in, until an END. */
  type GuestStep = [op: 'START' | 'END T' | 'END F' | 'WRITE' | 'SET_PERMS' | 'RM' | 'READ' | 'DIRECTORY', path?: string, value?: string];
  const script: GuestStep[] = [
    // A write refused as too big (write_node) fails the transaction: ENOMEM at commit.
    ['START'], ['WRITE', 'a', 'x'.repeat(3000)], ['END T'],
    ['START'], ['WRITE', 'b', 'v'], ['WRITE', 'b', 'x'.repeat(3000)], ['END T'],
    ['START'], ['WRITE', 'b', 'x'.repeat(3000)], ['END F'],
    // Inside a transaction the node quota (-E 5; the home node is the first) counts committed
    // nodes only, and the commit checks the rest: 7 nodes are refused there.
    ['START'], ['WRITE', 'c/d/e/f/g/h', 'v'], ['END T'],
    ['START'], ['WRITE', 'k/l', 'v'], ['WRITE', 'm', 'v'], ['END T'],
    // One removed, one created: still 4, commits.
    ['START'], ['RM', 'm'], ['WRITE', 'r', 'v'], ['END T'],
    // A commit may not reach the quota exactly; a plain write may.
    ['START'], ['WRITE', 'n', 'v'], ['END T'],
    ['WRITE', 'n', 'v'], ['WRITE', 'o', 'v'],
    // At the quota a transaction cannot create, and commits what else it did.
    ['START'], ['WRITE', 'q', 'v'], ['WRITE', 'r', 'w'], ['END T'],
    // ... unless a SET_PERMS put its domain among the changed ones: then the commit checks it.
    ['START'], ['SET_PERMS', 'r', `n${GUEST}`], ['WRITE', 'q', 'v'], ['END T'],
    // Touching more nodes than -Q transaction-nodes=8 is ENOSPC, and the commit ENOMEM.
    ['START'], ...Array.from({ length: 9 }, (_, i): GuestStep => ['READ', `x${i}`]), ['END T'],
    ['DIRECTORY'], ['READ', 'r'],
  ];

  async function runGuest(g: XsClient): Promise<string[]> {
    const out: string[] = [];
    let tx = 0;
    for (const [op, rel, value] of script) {
      const path = rel ? `${HOME}/${rel}` : HOME;
      const req = (): Promise<Buffer> => {
        switch (op) {
          case 'START':
            return g.request(XsOp.TRANSACTION_START, payloadOf(XsOp.TRANSACTION_START, ['']), 0);
          case 'END T':
          case 'END F':
            return g.request(XsOp.TRANSACTION_END, payloadOf(XsOp.TRANSACTION_END, [op.slice(4)]), tx);
          default:
            return g.request(XsOp[op], payloadOf(XsOp[op], value === undefined ? [path] : [path, value]), tx);
        }
      };
      try {
        const reply = (await req()).toString('latin1').replace(/\0/g, '|');
        if (op === 'START') tx = Number(reply.replace('|', ''));
        out.push(`${op} ${rel ?? ''} => ${op === 'START' ? 'ok' : reply}`);
      } catch (e) {
        if (!(e instanceof XsError)) throw e;
        out.push(`${op} ${rel ?? ''} => ${e.errnoName}`);
      }
      if (op.startsWith('END')) tx = 0;
    }
    return out;
  }

  it('a refused write fails the transaction (ENOMEM); the node quota is checked again at commit (ENOSPC)', async () => {
    const c = await startRealXenstored({ args: ['-E', '5', '-Q', 'transaction-nodes=8'] });
    const embedded = new EmbeddedXenstored({ limits: { nodesPerDomain: 5, transactionNodes: 8 } });
    let pairs: GuestPairs | undefined;
    try {
      pairs = await openGuestPairs(c, embedded, GUEST);
      for (const x of [pairs.theirs[0], pairs.ours[0]]) {
        await x.mkdir(HOME);
        await x.setPerms(HOME, perms([GUEST, 'none']));
      }
      const a = await runGuest(pairs.theirs[1]);
      const b = await runGuest(pairs.ours[1]);
      assert.ok(a.includes('END T  => ENOMEM') && a.includes('END T  => ENOSPC'), a.join('\n'));
      assert.deepEqual(b, a);
    } finally {
      await pairs?.close();
      await embedded.close();
      await c.stop();
    }
  });
});
