/** Whether a transaction may commit (do_transaction_end of xenstored_transaction.c). */
import { XsError } from '../messages.js';
import type { Limits } from './ops.js';
import type { NodeStore, TransactionView } from './tree.js';

/**
 * Throws what TRANSACTION_END "T" answers when the transaction cannot commit, in C's order:
 * ENOMEM for one a change failed half way in, ENOSPC for one that created nodes (unprivileged
 * callers only) and leaves a domain at or over its node quota, EAGAIN for a conflict.
 */
export function checkCommit(view: TransactionView, store: NodeStore, limits: Limits, privileged: boolean): void {
  if (view.failed) throw new XsError('ENOMEM', 'TRANSACTION_END');
  // transaction_fix_domains: compared with >=, so a commit may not reach the quota exactly
  if (view.nodeCreated && !privileged) {
    for (const [domid, delta] of view.entryDelta) {
      const count = Math.max(0, store.ownedBy(domid) + delta);
      if (domid !== 0 && count >= limits.nodesPerDomain) throw new XsError('ENOSPC', 'TRANSACTION_END', undefined, `domain ${domid} over its node quota`);
    }
  }
  if (view.conflicts()) throw new XsError('EAGAIN', 'TRANSACTION_END');
}
