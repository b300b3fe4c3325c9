/**
 * Disk device operations on the rig, colo-xl's and real xl's side by side: each command run in
 * dom0 (colo-xl from the shared checkout's build), and the xenstore nodes a device has, dumped
 * with Xen's own `xenstore-ls -fp` so that what colo-xl wrote and what xl wrote read the same way.
 */
import type { Dom0Channel, Dom0Result } from './dom0.js';
import { shq } from './guest.js';
import { DOM0_CHECKOUT } from './rig.js';

/** One command's outcome as the user sees it. */
export interface CommandResult {
  status: number;
  stdout: string;
  stderr: string;
}

const outcome = (r: Dom0Result): CommandResult => ({ status: r.status, stdout: r.stdout, stderr: r.stderr });

/** `colo-xl ARGS` in dom0, over dom0's real xenstored. */
export async function coloXl(dom0: Dom0Channel, args: readonly string[], timeoutSeconds = 300): Promise<CommandResult> {
  return outcome(await dom0.run(`node ${DOM0_CHECKOUT}/bin/colo-xl.js ${args.map(shq).join(' ')}`, { timeoutSeconds }));
}

/** Real `xl ARGS` in dom0. */
export async function realXl(dom0: Dom0Channel, args: readonly string[], timeoutSeconds = 300): Promise<CommandResult> {
  return outcome(await dom0.run(`xl ${args.map(shq).join(' ')}`, { timeoutSeconds }));
}

/** The three directories libxl keeps for a disk (backend, frontend, its own copy). */
export function diskPaths(domid: number, devid: number, backendKind = 'vbd'): { backend: string; frontend: string; libxl: string } {
  return {
    backend: `/local/domain/0/backend/${backendKind}/${domid}/${devid}`,
    frontend: `/local/domain/${domid}/device/vbd/${devid}`,
    libxl: `/libxl/${domid}/device/vbd/${devid}`,
  };
}

/**
 * A device's nodes as `xenstore-ls -fp` prints them, one line each, sorted; the values the guest
 * and the drivers choose for themselves at connection (grant references, event channels, queue
 * and feature negotiation) are kept as keys with their value replaced by `<guest>`.
 */
export async function dumpDevice(dom0: Dom0Channel, paths: readonly string[]): Promise<string[]> {
  const out = await dom0.run(paths.map((p) => `xenstore-ls -fp ${shq(p)} 2>/dev/null`).join('\n'));
  return out.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.replace(/^(\S+\/(?:ring-ref\S*|event-channel\S*|multi-queue-\S+|feature-\S+|sector-size|sectors|info|physical-sector-size)) = "[^"]*"/, '$1 = "<guest>"'))
    .sort();
}

/** Whether any of `paths` still exists in dom0's xenstore. */
export async function anyExists(dom0: Dom0Channel, paths: readonly string[]): Promise<string[]> {
  const left: string[] = [];
  for (const p of paths) if ((await dom0.run(`xenstore-exists ${shq(p)}`)).status === 0) left.push(p);
  return left;
}
