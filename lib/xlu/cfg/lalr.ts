/**
 * libxlu's parser as bison 3.3 built it for Xen 4.17 (libxlu_cfg_y.y, LALR(1), verbose errors,
 * one `error NEWLINE` recovery rule), replayed state by state.
 *
 * The nearley grammar (grammar/xlcfg.ne) defines the language; this automaton exists for what the
 * language alone does not determine: which tokens an error message says were expected (bison
 * lists the actions of the state it is in after its default reductions), whether an error is
 * reported at all (three tokens must be shifted after a recovery), and when the parse gives up.
 * The state numbers and actions were derived from the 4.17 parser tables.
 */

import { CfgScanner, type CfgParseContext, type CfgToken, type TokenKind } from './lexer.js';
import type { CfgValue, Assignment } from './settings.js';

type Sym = TokenKind | 'error';
type Action = { shift: number } | { reduce: number };

// Explicit actions per state; any other look-ahead takes the state's default reduction (or is an
// error when that is 0).
const ACTIONS: Record<number, Partial<Record<Sym, Action>>> = {
  1: { $end: { shift: 3 } },
  2: { $end: { reduce: 2 }, error: { shift: 4 }, IDENT: { shift: 5 }, NEWLINE: { shift: 6 }, ';': { shift: 7 } },
  4: { NEWLINE: { shift: 11 } },
  5: { '+=': { shift: 12 }, '=': { shift: 13 } },
  9: { NEWLINE: { shift: 6 }, ';': { shift: 7 } },
  12: { STRING: { shift: 15 }, NUMBER: { shift: 16 }, '[': { shift: 17 } },
  13: { STRING: { shift: 15 }, NUMBER: { shift: 16 }, '[': { shift: 17 } },
  21: { STRING: { shift: 15 }, NUMBER: { shift: 16 }, NEWLINE: { shift: 22 }, '[': { shift: 17 } },
  24: { ']': { shift: 27 } },
  25: { ',': { shift: 28 } },
  26: { NEWLINE: { shift: 22 } },
  29: { STRING: { shift: 15 }, NUMBER: { shift: 16 }, NEWLINE: { shift: 22 }, '[': { shift: 17 } },
  31: { NEWLINE: { shift: 22 } },
};

// Default reduction per state (0: error). States absent from ACTIONS decide without look-ahead.
const DEFACT = [4, 0, 0, 1, 0, 0, 11, 12, 5, 3, 7, 8, 0, 0, 6, 15, 16, 22, 10, 13, 9, 17, 23, 22, 0, 18, 20, 14, 22, 19, 22, 21];

const RULE_LHS = ['', '$accept', 'file', 'file', 'stmts', 'stmts', 'stmt', 'stmt', 'stmt', 'assignment', 'assignment',
  'endstmt', 'endstmt', 'value', 'value', 'atom', 'atom', 'valuelist', 'valuelist', 'valuelist', 'values', 'values',
  'nlok', 'nlok'];
const RULE_LEN = [0, 2, 1, 2, 0, 2, 2, 1, 2, 3, 3, 1, 1, 1, 4, 1, 1, 0, 1, 3, 2, 5, 0, 2];

function goTo(lhs: string, state: number): number {
  switch (lhs) {
    case 'file': return 1;
    case 'stmts': return 2;
    case 'stmt': return 8;
    case 'assignment': return 9;
    case 'endstmt': return state === 9 ? 14 : 10;
    case 'value': return ({ 13: 20, 21: 23, 29: 30 } as Record<number, number>)[state] ?? 18;
    case 'atom': return 19;
    case 'valuelist': return 24;
    case 'values': return 25;
    default: return ({ 23: 26, 28: 29, 30: 31 } as Record<number, number>)[state] ?? 21; // nlok
  }
}

// yytnamerr's rendering of each token name.
const TOKEN_NAMES: Record<TokenKind, string> = {
  $end: '$end', IDENT: 'IDENT', STRING: 'STRING', NUMBER: 'NUMBER', NEWLINE: 'NEWLINE', '+=': '+=',
  '=': "'='", ';': "';'", '[': "'['", ']': "']'", ',': "','",
};

// yysyntax_error: the unexpected token and up to four expected ones.
function syntaxErrorMessage(state: number, tok: TokenKind): string {
  const expected = Object.keys(ACTIONS[state] ?? {}).filter((k) => k !== 'error') as TokenKind[];
  let msg = `syntax error, unexpected ${TOKEN_NAMES[tok]}`;
  if (expected.length > 0 && expected.length <= 4) msg += ', expecting ' + expected.map((t) => TOKEN_NAMES[t]).join(' or ');
  return msg;
}

interface Entry {
  state: number;
  value: CfgValue | string | null;
  line: number;
}

// bison's YYMAXDEPTH: yysetstate gives up ("memory exhausted") when a state would go into the last
// slot of a stack that may not grow any more, so at most YYMAXDEPTH - 1 states are ever held.
export const YYMAXDEPTH = 10000;

/**
 * xlu__cfg_yyparse: runs the scanner and the automaton to the end, reporting into `ctx`, and calls
 * `store` for each assignment as bison reduces it. Returns 0 (accepted), 1 (aborted) or 2 (stack
 * exhausted, as by a list nested some 5,000 deep).
 */
export function lalrParse(input: string, ctx: CfgParseContext, store: (a: Assignment) => void): number {
  const scanner = new CfgScanner(input, ctx);
  const stack: Entry[] = [{ state: 0, value: null, line: 1 }];
  let la: CfgToken | null = null;
  // yylloc: where the most recently scanned token is (bison's initial location before any).
  let yylloc = 1;
  const scan = (): CfgToken => {
    const t = scanner.next();
    yylloc = t.line;
    return t;
  };
  // yyexhaustedlab
  const exhausted = (): number => {
    ctx.yyerror(yylloc, 'memory exhausted');
    return 2;
  };
  let errstatus = 0;
  for (;;) {
    if (stack.length >= YYMAXDEPTH) return exhausted();
    const top = stack[stack.length - 1]!;
    if (top.state === 3) return 0;
    const actions = ACTIONS[top.state];
    let action: Action | undefined;
    if (actions) {
      la ??= scan();
      action = actions[la.kind];
    }
    if (action && 'shift' in action) {
      if (errstatus) errstatus--;
      stack.push({ state: action.shift, value: la!.value, line: la!.line });
      la = null;
      continue;
    }
    const rule = action ? action.reduce : DEFACT[top.state]!;
    if (rule !== 0) {
      reduce(rule, stack, la, store);
      continue;
    }
    // yyerrlab
    if (!errstatus) ctx.yyerror(la!.line, syntaxErrorMessage(top.state, la!.kind));
    if (errstatus === 3) {
      if (la!.kind === '$end') return 1;
      la = null;
    }
    errstatus = 3;
    // yyerrlab1: only `stmts` (state 2) can shift the error token.
    while (stack[stack.length - 1]!.state !== 2) {
      if (stack.length === 1) return 1;
      stack.pop();
    }
    stack.push({ state: 4, value: null, line: 1 });
  }
}

function reduce(rule: number, stack: Entry[], la: CfgToken | null, store: (a: Assignment) => void): void {
  const n = RULE_LEN[rule]!;
  const rhs = stack.splice(stack.length - n, n);
  // YYLLOC_DEFAULT: a reduction is located where its first symbol is.
  let line = n > 0 ? rhs[0]!.line : 1;
  let value: Entry['value'] = n > 0 ? rhs[0]!.value : null;
  switch (rule) {
    case 9:
    case 10:
      store({ name: rhs[0]!.value as string, op: rule === 9 ? '=' : '+=', value: rhs[2]!.value as CfgValue | null, line: rhs[2]!.line });
      break;
    case 13:
      value = rhs[0]!.value === null ? null : { kind: 'string', value: rhs[0]!.value as string, line: rhs[0]!.line };
      break;
    case 14:
      value = rhs[2]!.value;
      break;
    case 17:
      line = la?.line ?? 1;
      value = { kind: 'list', values: [], line };
      break;
    case 20:
      value = rhs[0]!.value === null ? null : { kind: 'list', values: [rhs[0]!.value as CfgValue], line: rhs[0]!.line };
      break;
    case 21: {
      const list = rhs[0]!.value as CfgValue | null;
      const item = rhs[3]!.value as CfgValue | null;
      if (list && list.kind === 'list' && item) list.values.push(item);
      value = list;
      break;
    }
  }
  const below = stack[stack.length - 1]!.state;
  stack.push({ state: goTo(RULE_LHS[rule]!, below), value, line });
}
