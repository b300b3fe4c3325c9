// Generated automatically by nearley, version 2.20.1
// http://github.com/Hardmath123/nearley
// Bypasses TS6133. Allow declared but unused functions.
// @ts-ignore
function id(d: any[]): any { return d[0]; }
declare var IDENT: any;
declare var EQ: any;
declare var ADD: any;
declare var NEWLINE: any;
declare var SEMI: any;
declare var LBRACK: any;
declare var RBRACK: any;
declare var STRING: any;
declare var NUMBER: any;
declare var COMMA: any;

import type { CfgValue, Assignment } from '../lib/config/settings.js';
import type { NearleyCfgToken } from '../lib/config/token-stream.js';

const tok = (d: unknown[], i: number): NearleyCfgToken => d[i] as NearleyCfgToken;
// Every %TOKEN names a token type; lib/config/token-stream.ts supplies the tokens at parse time.
const lexer = {
  has: (_name: string) => true,
  reset: (_chunk: string, _info: unknown) => undefined,
  next: () => undefined,
  save: () => undefined,
  formatError: (_token: never) => '',
};

interface NearleyToken {
  value: any;
  [key: string]: any;
};

interface NearleyLexer {
  reset: (chunk: string, info: any) => void;
  next: () => NearleyToken | undefined;
  save: () => any;
  formatError: (token: never) => string;
  has: (tokenType: string) => boolean;
};

interface NearleyRule {
  name: string;
  symbols: NearleySymbol[];
  postprocess?: (d: any[], loc?: number, reject?: {}) => any;
};

type NearleySymbol = string | { literal: any } | { test: (token: any) => boolean };

interface Grammar {
  Lexer: NearleyLexer | undefined;
  ParserRules: NearleyRule[];
  ParserStart: string;
};

const grammar: Grammar = {
  Lexer: lexer,
  ParserRules: [
    {"name": "file", "symbols": ["stmts"], "postprocess": (d) => d[0] as Assignment[]},
    {"name": "file", "symbols": ["stmts", "assignment"], "postprocess": (d) => [...(d[0] as Assignment[]), d[1] as Assignment]},
    {"name": "stmts", "symbols": [], "postprocess": () => []},
    {"name": "stmts", "symbols": ["stmts", "stmt"], "postprocess": (d) => (d[1] === null ? d[0] : [...(d[0] as Assignment[]), d[1] as Assignment])},
    {"name": "stmt", "symbols": ["assignment", "endstmt"], "postprocess": (d) => d[0]},
    {"name": "stmt", "symbols": ["endstmt"], "postprocess": () => null},
    {"name": "assignment", "symbols": [(lexer.has("IDENT") ? {type: "IDENT"} : IDENT), (lexer.has("EQ") ? {type: "EQ"} : EQ), "value"], "postprocess": (d) => ({ name: tok(d, 0).value, op: '=', value: d[2] as CfgValue, line: (d[2] as CfgValue).line })},
    {"name": "assignment", "symbols": [(lexer.has("IDENT") ? {type: "IDENT"} : IDENT), (lexer.has("ADD") ? {type: "ADD"} : ADD), "value"], "postprocess": (d) => ({ name: tok(d, 0).value, op: '+=', value: d[2] as CfgValue, line: (d[2] as CfgValue).line })},
    {"name": "endstmt", "symbols": [(lexer.has("NEWLINE") ? {type: "NEWLINE"} : NEWLINE)], "postprocess": () => null},
    {"name": "endstmt", "symbols": [(lexer.has("SEMI") ? {type: "SEMI"} : SEMI)], "postprocess": () => null},
    {"name": "value", "symbols": ["atom"], "postprocess": (d) => ({ kind: 'string', value: tok(d, 0).value, line: tok(d, 0).line })},
    {"name": "value", "symbols": [(lexer.has("LBRACK") ? {type: "LBRACK"} : LBRACK), "nlok", "valuelist", (lexer.has("RBRACK") ? {type: "RBRACK"} : RBRACK)], "postprocess": (d) => ({ kind: 'list', values: d[2] as CfgValue[], line: tok(d, 0).line })},
    {"name": "atom", "symbols": [(lexer.has("STRING") ? {type: "STRING"} : STRING)], "postprocess": (d) => d[0]},
    {"name": "atom", "symbols": [(lexer.has("NUMBER") ? {type: "NUMBER"} : NUMBER)], "postprocess": (d) => d[0]},
    {"name": "valuelist", "symbols": [], "postprocess": () => []},
    {"name": "valuelist", "symbols": ["values"], "postprocess": (d) => d[0]},
    {"name": "valuelist", "symbols": ["values", (lexer.has("COMMA") ? {type: "COMMA"} : COMMA), "nlok"], "postprocess": (d) => d[0]},
    {"name": "values", "symbols": ["value", "nlok"], "postprocess": (d) => [d[0]]},
    {"name": "values", "symbols": ["values", (lexer.has("COMMA") ? {type: "COMMA"} : COMMA), "nlok", "value", "nlok"], "postprocess": (d) => [...(d[0] as CfgValue[]), d[3] as CfgValue]},
    {"name": "nlok", "symbols": [], "postprocess": () => null},
    {"name": "nlok", "symbols": ["nlok", (lexer.has("NEWLINE") ? {type: "NEWLINE"} : NEWLINE)], "postprocess": () => null}
  ],
  ParserStart: "file",
};

export default grammar;
