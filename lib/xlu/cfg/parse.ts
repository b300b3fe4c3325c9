/**
 * Reading an xl.cfg: libxlu's xlu_cfg_readdata. Valid input is parsed by the nearley grammar;
 * anything libxlu would complain about is replayed through its bison automaton (lalr.ts) so the
 * report text, line numbers and recovery match Xen 4.17 exactly.
 */

import { InternalError } from '../../errors.js';
import { nearley } from '../../util/cjs.js';
import grammar from '../../../grammar/xlcfg.js';
import { CfgParseContext, CfgScanner, type CfgToken } from './lexer.js';
import { lalrParse, YYMAXDEPTH } from './lalr.js';
import { XluConfig, type Assignment } from './settings.js';
import { snocToArray, type Snoc } from './snoc.js';
import { TokenStream } from './token-stream.js';

export interface CfgReadResult {
  config: XluConfig;
  /** 0, or the errno libxlu returns (EINVAL for any syntax or lexical error). */
  err: number;
  /** What libxlu printed to its report stream while parsing. */
  report: string;
}

const PYTHON_WARNING =
  'warning: Config file looks like it contains Python code.\n' +
  'warning:  Arbitrary Python is no longer supported.\n' +
  'warning:  See https://wiki.xen.org/wiki/PythonInXlConfig\n';

// bison holds at most five states for each list still open around the innermost one, plus a
// few for the statement and the innermost list's items: nesting up to this depth cannot exhaust
// its stack. Deeper files take the automaton, which counts exactly.
const SAFE_LIST_DEPTH = Math.floor((YYMAXDEPTH - 16) / 5);

/** Assignments of a valid file, in order, or null when libxlu would report something. */
function parseClean(data: string, source: string): Assignment[] | null {
  const ctx = new CfgParseContext(source);
  const scanner = new CfgScanner(data, ctx);
  const tokens: CfgToken[] = [];
  let depth = 0;
  for (;;) {
    const t = scanner.next();
    tokens.push(t);
    if (t.kind === '$end') break;
    if (t.kind === '[' && ++depth > SAFE_LIST_DEPTH) return null;
    if (t.kind === ']') depth--;
  }
  if (ctx.err || ctx.report) return null;
  const parser = new nearley.Parser(nearley.Grammar.fromCompiled(grammar), { lexer: new TokenStream(tokens) });
  try {
    parser.feed('');
  } catch {
    return null;
  }
  if (parser.results.length > 1) throw new InternalError(`xl.cfg grammar is ambiguous (${parser.results.length} parses)`);
  return parser.results.length === 1 ? snocToArray(parser.results[0] as Snoc<Assignment>) : null;
}

// xlu_cfg_readdata (with xlu_cfg_init's report stream collected into a string)
export function xluCfgReadData(data: string, source: string): CfgReadResult {
  const clean = parseClean(data, source);
  if (clean) {
    const ctx = new CfgParseContext(source);
    const config = new XluConfig(source);
    for (const a of clean) config.store(ctx, a);
    if (!ctx.err && !ctx.report) return { config, err: 0, report: '' };
  }
  const ctx = new CfgParseContext(source);
  const config = new XluConfig(source);
  lalrParse(data, ctx, (a) => config.store(ctx, a));
  if (ctx.err && ctx.likelyPython) ctx.report += PYTHON_WARNING;
  return { config, err: ctx.err, report: ctx.report };
}
