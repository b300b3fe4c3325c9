/**
 * nearley and moo are CommonJS. Importing them from ESM makes Node scan their source for export
 * names first, which costs more at start-up than loading them; require() does not scan.
 */
import { createRequire } from 'node:module';
import type Moo from 'moo';
import type Nearley from 'nearley';

const require = createRequire(import.meta.url);

export const nearley = require('nearley') as typeof Nearley;
export const moo = require('moo') as typeof Moo;
