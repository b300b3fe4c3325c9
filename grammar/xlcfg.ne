# The xl.cfg language of Xen 4.17's libxlu (libxlu_cfg_y.y), over the tokens of
# lib/config/lexer.ts (a flex-faithful scanner: moo's first-match rules cannot express flex's
# longest match with yymore, so the token stream is produced there and fed in through
# lib/config/token-stream.ts).
#
#   file     : statements, then optionally one last assignment without terminator
#   statement: assignment ( ";" | newline ) | ";" | newline
#   value    : STRING | NUMBER | "[" newlines* (value newlines* ("," newlines* value newlines*)* ("," newlines*)?)? "]"
#
# Each parse yields the assignments in file order; the grammar is unambiguous (callers assert a
# single result).

@preprocessor typescript

@{%
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
%}

@lexer lexer

file -> stmts                 {% (d) => d[0] as Assignment[] %}
      | stmts assignment      {% (d) => [...(d[0] as Assignment[]), d[1] as Assignment] %}

stmts -> null                 {% () => [] %}
       | stmts stmt           {% (d) => (d[1] === null ? d[0] : [...(d[0] as Assignment[]), d[1] as Assignment]) %}

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
                              {% (d) => ({ kind: 'list', values: d[2] as CfgValue[], line: tok(d, 0).line }) %}

atom -> %STRING               {% (d) => d[0] %}
      | %NUMBER               {% (d) => d[0] %}

valuelist -> null             {% () => [] %}
           | values           {% (d) => d[0] %}
           | values %COMMA nlok
                              {% (d) => d[0] %}

values -> value nlok          {% (d) => [d[0]] %}
        | values %COMMA nlok value nlok
                              {% (d) => [...(d[0] as CfgValue[]), d[3] as CfgValue] %}

nlok -> null                  {% () => null %}
      | nlok %NEWLINE         {% () => null %}
