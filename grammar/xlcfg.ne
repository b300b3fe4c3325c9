# The xl.cfg language of Xen 4.17's libxlu (libxlu_cfg_y.y), over the tokens of
# lib/xlu/cfg/lexer.ts (a flex-faithful scanner: moo's first-match rules cannot express flex's
# longest match with yymore, so the token stream is produced there and fed in through
# lib/xlu/cfg/token-stream.ts).
#
#   file     : statements, then optionally one last assignment without terminator
#   statement: assignment ( ";" | newline ) | ";" | newline
#   value    : STRING | NUMBER | "[" newlines* (value newlines* ("," newlines* value newlines*)* ("," newlines*)?)? "]"
#
# Each parse yields the assignments in file order, as a snoc list (lib/xlu/cfg/snoc.ts) that the
# caller turns into an array; the grammar is unambiguous (callers assert a single result).
#
# Sequences grow as immutable snoc lists and become arrays only once complete: nearley keeps the
# data of every state it completes, so copying an array on each append would cost quadratic time
# and memory. A list becomes an array when its `]` closes it (once); the file's statements are left
# to the caller, because nearley completes `file` after every statement.

@preprocessor typescript

@{%
import type { CfgValue, Assignment } from '../lib/xlu/cfg/settings.js';
import type { NearleyCfgToken } from '../lib/xlu/cfg/token-stream.js';
import { snoc, snocToArray, type Snoc } from '../lib/xlu/cfg/snoc.js';

const tok = (d: unknown[], i: number): NearleyCfgToken => d[i] as NearleyCfgToken;
const cell = <T>(init: unknown, last: unknown): Snoc<T> => snoc(init as Snoc<T>, last as T);
// Every %TOKEN names a token type; lib/xlu/cfg/token-stream.ts supplies the tokens at parse time.
const lexer = {
  has: (_name: string) => true,
  reset: (_chunk: string, _info: unknown) => undefined,
  next: () => undefined,
  save: () => undefined,
  formatError: (_token: never) => '',
};
%}

@lexer lexer

file -> stmts                 {% (d) => d[0] as Snoc<Assignment> %}
      | stmts assignment      {% (d) => cell<Assignment>(d[0], d[1]) %}

stmts -> null                 {% () => null %}
       | stmts stmt           {% (d) => (d[1] === null ? d[0] : cell<Assignment>(d[0], d[1])) %}

stmt -> assignment endstmt    {% (d) => d[0] %}
      | endstmt               {% () => null %}

assignment -> %IDENT %EQ value
  {% (d) => ({ name: tok(d, 0).value, op: '=', value: d[2] as CfgValue, line: (d[2] as CfgValue).line }) %}
            | %IDENT %ADD value
  {% (d) => ({ name: tok(d, 0).value, op: '+=', value: d[2] as CfgValue, line: (d[2] as CfgValue).line }) %}

endstmt -> %NEWLINE           {% () => null %}
         | %SEMI              {% () => null %}

value -> atom                 {% (d) => ({ kind: 'string', value: tok(d, 0).value, line: tok(d, 0).line }) %}
       | %LBRACK nlok valuelist %RBRACK
                              {% (d) => ({ kind: 'list', values: snocToArray(d[2] as Snoc<CfgValue>), line: tok(d, 0).line }) %}

atom -> %STRING               {% (d) => d[0] %}
      | %NUMBER               {% (d) => d[0] %}

valuelist -> null             {% () => null %}
           | values           {% (d) => d[0] %}
           | values %COMMA nlok
                              {% (d) => d[0] %}

values -> value nlok          {% (d) => cell<CfgValue>(null, d[0]) %}
        | values %COMMA nlok value nlok
                              {% (d) => cell<CfgValue>(d[0], d[3]) %}

nlok -> null                  {% () => null %}
      | nlok %NEWLINE         {% () => null %}
