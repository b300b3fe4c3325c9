import type { Command } from './command.js';
import { blockAttach } from './commands/block-attach.js';
import { blockDetach } from './commands/block-detach.js';
import { blockList } from './commands/block-list.js';
import { colo } from './commands/colo.js';
import { demo } from './commands/demo.js';
import { create } from './commands/create.js';
import { devmodelArgs } from './commands/devmodel-args.js';
import { tour } from './commands/tour.js';
import { xenstored } from './commands/xenstored.js';

/** Every subcommand, in the order `colo-xl help` lists them. */
export const commands: Command[] = [tour, blockAttach, blockDetach, blockList, xenstored, colo, demo, create, devmodelArgs];
