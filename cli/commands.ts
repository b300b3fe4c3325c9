import type { Command } from './command.js';

/** A subcommand, loaded only when it runs: start-up time is most of a short command's time. */
export interface CommandEntry {
  name: string;
  load(): Promise<Command>;
}

/** Every subcommand, in the order `colo-xl help` lists them. */
export const commands: CommandEntry[] = [
  { name: 'demo', load: async () => (await import('./commands/demo.js')).demo },
  { name: 'tour', load: async () => (await import('./commands/tour.js')).tour },
  { name: 'create', load: async () => (await import('./commands/create.js')).create },
  { name: 'list', load: async () => (await import('./commands/domains.js')).list },
  { name: 'destroy', load: async () => (await import('./commands/domains.js')).destroy },
  { name: 'block-attach', load: async () => (await import('./commands/block-attach.js')).blockAttach },
  { name: 'block-detach', load: async () => (await import('./commands/block-detach.js')).blockDetach },
  { name: 'block-list', load: async () => (await import('./commands/block-list.js')).blockList },
  { name: 'devmodel-args', load: async () => (await import('./commands/devmodel-args.js')).devmodelArgs },
  { name: 'colo', load: async () => (await import('./commands/colo.js')).colo },
  { name: 'colo-ha', load: async () => (await import('./commands/colo-ha.js')).coloHa },
  { name: 'xenstored', load: async () => (await import('./commands/xenstored.js')).xenstored },
  { name: 'migrate', load: async () => (await import('./commands/migrate.js')).migrate },
  { name: 'migrate-receive', load: async () => (await import('./commands/migrate-receive.js')).migrateReceiveCommand },
  { name: 'remus', load: async () => (await import('./commands/remus.js')).remus },
  { name: 'domxml-from-native', load: async () => (await import('./commands/domxml.js')).domxmlFromNative },
  { name: 'domxml-to-native', load: async () => (await import('./commands/domxml.js')).domxmlToNative },
];
