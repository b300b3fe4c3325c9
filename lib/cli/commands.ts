import type { Command } from './command.js';
import { blockAttach } from './commands/block-attach.js';
import { colo } from './commands/colo.js';
import { create } from './commands/create.js';
import { tour } from './commands/tour.js';
import { xenstored } from './commands/xenstored.js';

/** Every subcommand, in the order `colo-xl help` lists them. */
export const commands: Command[] = [tour, blockAttach, xenstored, colo, create];
