/**
 * Capability probing: ask QEMU up front (query-commands, query-qmp-schema) whether it can do what
 * a feature needs, so that a QEMU built without replication or COLO fails at once with one clear
 * QMPCapabilityError instead of halfway through a set-up.
 */
import type { WaitOptions } from '../util/wait.js';
import type { QMPClient } from './client.js';
import { QMPCapabilityError } from './errors.js';

interface SchemaEntry {
  name: string;
  'meta-type': string;
  'arg-type'?: string;
  members?: Array<{ name: string; type: string }>;
  values?: string[];
  variants?: Array<{ case: string; type: string }>;
}

/** What one QEMU can do, read once per connection. */
export class QemuCapabilities {
  private constructor(
    readonly commands: Set<string>,
    private readonly schema: Map<string, SchemaEntry>,
  ) {}

  /** Reads the commands and the schema; `opts` bounds each of the two commands. */
  static async probe(qmp: QMPClient, opts: WaitOptions = {}): Promise<QemuCapabilities> {
    const cmds = await qmp.execute<Array<{ name: string }>>('query-commands', undefined, opts);
    const schema = await qmp.execute<SchemaEntry[]>('query-qmp-schema', undefined, opts);
    return new QemuCapabilities(new Set(cmds.map((c) => c.name)), new Map(schema.map((e) => [e.name, e])));
  }

  hasCommand(name: string): boolean {
    return this.commands.has(name);
  }

  /** The argument names a command accepts (its arg-type's members), per the schema. */
  commandArgs(cmd: string): Set<string> {
    const c = this.schema.get(cmd);
    const t = c?.['arg-type'] ? this.schema.get(c['arg-type']) : undefined;
    return new Set((t?.members ?? []).map((m) => m.name));
  }

  /** Values of the enum behind blockdev-add's "driver" member: the block drivers built in. */
  blockDrivers(): Set<string> {
    const members = this.objectMembers(this.schema.get('blockdev-add')?.['arg-type']);
    const driver = members.find((m) => m.name === 'driver');
    const e = driver ? this.schema.get(driver.type) : undefined;
    return new Set(e?.values ?? []);
  }

  /** Values of the MigrationCapability enum (via migrate-set-capabilities' argument). */
  migrationCapabilities(): Set<string> {
    const members = this.objectMembers(this.schema.get('migrate-set-capabilities')?.['arg-type']);
    const caps = members.find((m) => m.name === 'capabilities');
    const arr = caps ? this.schema.get(caps.type) : undefined;
    const elem = arr && (arr as unknown as { 'element-type'?: string })['element-type'];
    const status = this.objectMembers(elem).find((m) => m.name === 'capability');
    return new Set((status ? this.schema.get(status.type)?.values : undefined) ?? []);
  }

  private objectMembers(typeName: string | undefined): Array<{ name: string; type: string }> {
    const t = typeName ? this.schema.get(typeName) : undefined;
    return t?.members ?? [];
  }

  /** Throws one QMPCapabilityError listing everything `need` lacks. */
  require(feature: string, need: FeatureNeeds): void {
    const missing: string[] = [];
    for (const c of need.commands ?? []) if (!this.hasCommand(c)) missing.push(`command ${c}`);
    for (const [cmd, args] of Object.entries(need.args ?? {})) {
      if (!this.hasCommand(cmd)) continue;
      const have = this.commandArgs(cmd);
      for (const a of args) if (!have.has(a)) missing.push(`argument ${cmd}.${a}`);
    }
    if (need.blockDrivers?.length) {
      const have = this.blockDrivers();
      for (const d of need.blockDrivers) if (!have.has(d)) missing.push(`block driver ${d}`);
    }
    if (need.migrationCapabilities?.length) {
      const have = this.migrationCapabilities();
      for (const c of need.migrationCapabilities) if (!have.has(c)) missing.push(`migration capability ${c}`);
    }
    if (missing.length > 0) throw new QMPCapabilityError(feature, missing);
  }
}

export interface FeatureNeeds {
  commands?: string[];
  args?: Record<string, string[]>;
  blockDrivers?: string[];
  migrationCapabilities?: string[];
}

/** What both ways of COLO replicate disks with: an NBD export, the HMP drive_add, the quorum child swap. */
const DISK_REPLICATION_COMMANDS = ['nbd-server-start', 'nbd-server-add', 'nbd-server-stop', 'human-monitor-command', 'x-blockdev-change'];
const DISK_REPLICATION_DRIVERS = ['replication', 'quorum', 'nbd'];

/** The libxl-style disk replication (Xen hosts): what libxl_colo_qdisk.c sends, plus failover. */
export const XEN_DISK_REPLICATION: FeatureNeeds = {
  commands: [...DISK_REPLICATION_COMMANDS, 'xen-set-replication', 'xen-colo-do-checkpoint', 'query-xen-replication-status'],
  args: { 'xen-set-replication': ['enable', 'primary', 'failover'] },
  blockDrivers: DISK_REPLICATION_DRIVERS,
};

/** QEMU-native COLO (KVM hosts), as seed 002's procedure drives it. */
export const QEMU_COLO: FeatureNeeds = {
  commands: [
    ...DISK_REPLICATION_COMMANDS,
    'x-colo-lost-heartbeat',
    'query-colo-status',
    'migrate',
    'migrate-set-capabilities',
    'migrate-set-parameters',
    'drive-mirror',
  ],
  blockDrivers: DISK_REPLICATION_DRIVERS,
  migrationCapabilities: ['x-colo'],
};

/** Probes and checks in one call: the first thing every COLO entry point does. */
export async function requireFeature(qmp: QMPClient, feature: string, need: FeatureNeeds, opts: WaitOptions = {}): Promise<QemuCapabilities> {
  const caps = await QemuCapabilities.probe(qmp, opts);
  caps.require(feature, need);
  return caps;
}
