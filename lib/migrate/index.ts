/**
 * Live migration with disk mirroring.
 * @module
 */
export { migrateDomain, type MigrateOptions } from './source.js';
export { migrateReceive, childLauncher, type LaunchedQemu, type QemuLauncher, type ReceiveOptions, type ReceiveResult } from './receive.js';
export { ControlClient, readJsonLines, REQUEST_TIMEOUT_MS, type ChannelMessage } from './channel.js';
export { describeSource, vmArgv } from './vm.js';
export { ProgressPrinter, formatReport } from './progress.js';
export { MigrateError, MigrateFailure, MigrateChannelError, type MigrateDisk, type MigrateEvent, type MigrateReport, type MigrateStep, type VmDescription } from './types.js';
