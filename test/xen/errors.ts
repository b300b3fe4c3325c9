/** Errors of the Xen-under-QEMU rig. Each carries what a reader needs to see why, not a bare status. */

export class XenRigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A recipe script failed; `logTail` is the end of what it printed. */
export class ImageBuildError extends XenRigError {
  constructor(readonly step: string, readonly logTail: string) {
    super(`xen rig: ${step} failed; its last lines:\n${logTail}`);
  }
}

/**
 * Xen or dom0 did not come up; `consoleTail` is the end of the serial console. QEMU (`qemuPid`)
 * has been stopped; `runDir`, with the whole console log, is kept for a post-mortem.
 */
export class BootError extends XenRigError {
  constructor(
    readonly reason: string,
    readonly consoleTail: string,
    readonly qemuPid: number,
    readonly runDir: string,
  ) {
    super(`xen rig: boot failed: ${reason} (console log in ${runDir}); the console's last lines:\n${consoleTail}`);
  }
}

/** A request to dom0 got no answer in time (the agent or dom0 is stuck). */
export class Dom0TimeoutError extends XenRigError {
  constructor(readonly script: string, readonly seconds: number) {
    super(`xen rig: dom0 gave no answer within ${seconds} s to:\n${script}`);
  }
}

/**
 * dom0's agent did not even pick a request up: dom0 or the agent is stuck. `diagnosis` is what
 * dom0's console answered when asked for its processes (the console works without the agent).
 */
export class Dom0StalledError extends XenRigError {
  constructor(readonly script: string, readonly seconds: number, readonly diagnosis: string) {
    super(`xen rig: dom0's agent did not pick up a request within ${seconds} s:\n${script}\n` +
      `--- dom0's console, asked for its processes:\n${diagnosis}`);
  }
}

/** A command in dom0 exited non-zero where the caller required success. */
export class Dom0CommandError extends XenRigError {
  constructor(readonly script: string, readonly status: number, readonly stdout: string, readonly stderr: string) {
    super(`xen rig: dom0 command exited ${status}:\n${script}\n--- stdout\n${stdout}--- stderr\n${stderr}`);
  }
}
