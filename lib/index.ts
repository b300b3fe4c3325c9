/**
 * colo-xl: the parts of Xen 4.17's libxl/xl toolstack that make COLO disk replication work.
 *
 * This entry point is the small stable set a management stack starts from. Each concept has its
 * own subpath with everything it exports: `colo-xl/xlu`, `colo-xl/xl`, `colo-xl/libxl`,
 * `colo-xl/xenstore`, `colo-xl/xenstored`, `colo-xl/qmp`, `colo-xl/qemu`, `colo-xl/stream`, `colo-xl/colo`,
 * `colo-xl/ha`, `colo-xl/migrate`, `colo-xl/libvirt`, `colo-xl/tls`, `colo-xl/native`.
 * @module
 */
export { ColoXlError, WaitTimeoutError, AbortedError, InvalidArgumentError, InternalError } from './errors.js';
export type { WaitOptions } from './util/wait.js';
export { silentLogger, scopedLogger, loggerFrom, type Logger, type LogLevel, type LogFields } from './util/log.js';
export type { DeviceDisk } from './libxl/types/disk.js';
export { parseDiskSpec, DiskSpecError } from './xlu/disk/parse.js';
export { parseConfigData } from './xl/parse.js';
export { XsClient } from './xenstore/client.js';
export { openXenstore, XenstoreUnavailableError } from './xenstore/open.js';
export type { Xenstore, XsWatch } from './xenstore/api.js';
export { libxlCtx, type LibxlCtx } from './libxl/ctx.js';
export { deviceDiskAdd, deviceDiskRemove, deviceDiskList } from './libxl/disk.js';
export { QMPClient } from './qmp/client.js';
export { QMPError } from './qmp/errors.js';
export { XenDiskReplication } from './colo/replication.js';
export { QemuNativeColo } from './colo/native.js';
