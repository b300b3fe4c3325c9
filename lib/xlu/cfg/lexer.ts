/**
 * The xl.cfg scanner, behaving like libxlu's flex scanner (libxlu_cfg_l.l) in Xen 4.17: longest
 * match with ties going to the earlier rule, the `lexerr` start condition with its `yymore()`
 * accumulation, yylineno counting, and the side effects of its actions (lexical-error reports,
 * the "looks like Python" flag, string dequoting with libxlu's quirks).
 *
 * Reports go through a callback so that they interleave with the parser's syntax errors exactly as
 * libxlu prints them: the scanner runs only when the parser asks for a look-ahead token.
 */
import { strtoul } from '../../util/cstr.js';

export type TokenKind = 'IDENT' | 'NUMBER' | 'STRING' | 'NEWLINE' | ',' | '[' | ']' | '+=' | '=' | ';' | '$end';

export interface CfgToken {
  kind: TokenKind;
  /** IDENT/NUMBER text, or the dequoted STRING (null once an error was recorded: libxlu skips the copy). */
  value: string | null;
  /** bison's yylloc.first_line for this token. */
  line: number;
  /** yytext as the error reporter sees it right after this token was scanned. */
  text: string;
}

/** State shared by scanner and parser, like libxlu's CfgParseContext. */
export class CfgParseContext {
  err = 0;
  lexerrlineno = -1;
  likelyPython = false;
  report = '';
  /** yytext / yylineno of the scanner, for reports made outside a token action. */
  yytext = '';
  yylineno = 1;

  constructor(readonly source: string) {}

  // xlu__cfg_yyerror
  yyerror(line: number, msg: string): void {
    let lineno = line;
    if (lineno <= this.lexerrlineno) return;
    let text = this.yytext;
    let newline = '';
    if (text.length > 0 && text.endsWith('\n')) {
      text = text.slice(0, -1);
      lineno--;
      if (text.length === 0) newline = '<newline>';
    }
    let len = text.length;
    while (len > 0 && (text[len - 1] === ' ' || text[len - 1] === '\t')) len--;
    text = text.slice(0, len);
    // At end of input yytext is one NUL byte: printed as nothing, but between backquotes.
    const nul = text.indexOf('\0');
    const quoted = text.length > 0 ? '`' + (nul < 0 ? text : text.slice(0, nul)) + "'" : '';
    this.report += `${this.source}:${lineno}: config parsing error near ${quoted}${newline}: ${msg}\n`;
    if (!this.err) this.err = EINVAL;
  }

  // xlu__cfgl_lexicalerror
  lexicalError(msg: string): void {
    const line = this.yylineno;
    this.yyerror(line, msg);
    this.lexerrlineno = line;
  }
}

export const EINVAL = 22;

/**
 * Where the next newline is, remembered: the comment rule needs it at every `#`, and a line of
 * many `#` with no newline after it would otherwise be searched to its end once per `#` (flex
 * does that, and takes minutes on a few hundred kilobytes).
 */
class NextNewline {
  private searchedFrom = Infinity;
  private found = -1;

  constructor(private readonly input: string) {}

  /** Index of the first newline at or after `pos`, or -1. */
  after(pos: number): number {
    if (pos < this.searchedFrom || (this.found >= 0 && this.found < pos)) {
      this.searchedFrom = pos;
      this.found = this.input.indexOf('\n', pos);
    }
    return this.found;
  }
}

interface Rule {
  /** Length of the rule's match at `pos` (0: no match; no rule matches the empty string). */
  match: (input: string, pos: number, nl: NextNewline) => number;
  act: number;
}

function re(pattern: RegExp): Rule['match'] {
  return (input, pos) => {
    pattern.lastIndex = pos;
    return pattern.exec(input)?.[0].length ?? 0;
  };
}

// A quoted string: flex's `'([^'\\\n]|\\.)*'` (and the same with `"`). Scanned by hand because
// a backtracking regex of that shape overflows V8's stack on a string of some megabytes; the
// pattern is deterministic (a backslash always takes the next character), so the first unescaped
// quote ends the match, and a newline or the end of input before it means no match.
function quoted(q: string): Rule['match'] {
  return (input, pos) => {
    if (input[pos] !== q) return 0;
    for (let i = pos + 1; i < input.length; i++) {
      const c = input[i];
      if (c === q) return i + 1 - pos;
      if (c === '\n') return 0;
      if (c === '\\') {
        if (i + 1 >= input.length || input[i + 1] === '\n') return 0;
        i++;
      }
    }
    return 0;
  };
}

// flex's `\n|#.*\n`
function newlineOrComment(input: string, pos: number, nl: NextNewline): number {
  if (input[pos] === '\n') return 1;
  if (input[pos] !== '#') return 0;
  const end = nl.after(pos);
  return end < 0 ? 0 : end + 1 - pos;
}

// The INITIAL rules in libxlu_cfg_l.l order; `.` in flex never matches a newline.
const INITIAL_RULES: Rule[] = [
  { match: re(/[a-z][._0-9a-z]*/y), act: 1 },
  { match: re(/[0-9][0-9a-fx]*/y), act: 2 },
  { match: re(/[ \t]/y), act: 3 },
  { match: re(/,/y), act: 4 },
  { match: re(/\[/y), act: 5 },
  { match: re(/\]/y), act: 6 },
  { match: re(/\+=/y), act: 7 },
  { match: re(/=/y), act: 8 },
  { match: re(/;/y), act: 9 },
  { match: newlineOrComment, act: 10 },
  { match: quoted("'"), act: 11 },
  { match: quoted('"'), act: 12 },
  { match: re(/[+,\-.():]/y), act: 13 },
  { match: re(/[^\n]/y), act: 14 },
];

const LEXERR_RULES: Rule[] = [
  { match: re(/[^ \t\n]+|[ \t]/y), act: 15 },
  { match: re(/\n/y), act: 16 },
];

const SIMPLE: Record<number, TokenKind> = { 4: ',', 5: '[', 6: ']', 7: '+=', 8: '=', 9: ';' };

export class CfgScanner {
  private pos = 0;
  private lexerr = false;
  private more = '';
  /** yylloc.first_line as last set by a token action (bison keeps it for `$end`). */
  private lastLine = 1;
  private readonly nl: NextNewline;

  constructor(
    private readonly input: string,
    private readonly ctx: CfgParseContext,
  ) {
    this.nl = new NextNewline(input);
  }

  // xlu__cfg_yylex
  next(): CfgToken {
    const ctx = this.ctx;
    for (;;) {
      if (this.pos >= this.input.length) {
        // flex's end-of-buffer: yytext is any yymore() text plus the NUL terminator, and yylloc
        // is left alone.
        ctx.yytext = this.more + '\0';
        return { kind: '$end', value: null, line: this.lastLine, text: ctx.yytext };
      }
      const rules = this.lexerr ? LEXERR_RULES : INITIAL_RULES;
      let best: Rule | undefined;
      let bestLen = 0;
      for (const r of rules) {
        const len = r.match(this.input, this.pos, this.nl);
        if (len > bestLen) {
          best = r;
          bestLen = len;
        }
      }
      // Every character matches some rule in both start conditions.
      const matched = this.input.slice(this.pos, this.pos + bestLen);
      this.pos += bestLen;
      for (let nl = matched.indexOf('\n'); nl >= 0; nl = matched.indexOf('\n', nl + 1)) ctx.yylineno++;
      const text = this.more + matched;
      this.more = '';
      ctx.yytext = text;
      const act = best!.act;
      switch (act) {
        case 1:
        case 2:
          return this.got(act === 1 ? 'IDENT' : 'NUMBER', ctx.err ? null : text, ctx.yylineno);
        case 3:
          continue;
        case 10:
          return this.got('NEWLINE', null, ctx.yylineno - 1);
        case 11:
        case 12:
          return this.got('STRING', dequote(ctx, text), ctx.yylineno);
        case 13:
          ctx.likelyPython = true;
          this.lexerr = true;
          this.more = text;
          continue;
        case 14:
          this.lexerr = true;
          this.more = text;
          continue;
        case 15:
          ctx.lexicalError('lexical error');
          this.lexerr = false;
          continue;
        case 16:
          ctx.lexicalError('lexical error');
          this.lexerr = false;
          return this.got('NEWLINE', null, ctx.yylineno);
        default:
          return this.got(SIMPLE[act]!, null, ctx.yylineno);
      }
    }
  }

  private got(kind: TokenKind, value: string | null, line: number): CfgToken {
    this.lastLine = line;
    return { kind, value, line, text: this.ctx.yytext };
  }
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"', "'": "'", '\\': '\\', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v',
};

// xlu__cfgl_dequote. Faithful to 4.17, bugs included: numeric escapes are parsed (hex always
// fails, "octal" is read in base 10 after its first digit) but never stored.
function dequote(ctx: CfgParseContext, src: string): string | null {
  if (ctx.err) return null;
  let out = '';
  const end = src.length - 1;
  let p = 1;
  while (p < end) {
    // Copy the run up to the next backslash in one piece (a string can be megabytes long).
    const bs = src.indexOf('\\', p);
    const stop = bs < 0 || bs >= end ? end : bs;
    out += src.slice(p, stop);
    if (stop === end) break;
    p = stop + 1;
    const nc = src[p++]!;
    const simple = SIMPLE_ESCAPES[nc];
    if (simple !== undefined) {
      out += simple;
    } else if (nc === 'x' || (nc >= '0' && nc <= '7')) {
      const hex = nc === 'x';
      if (hex) p++;
      const maxlen = hex ? 2 : 3;
      const minlen = hex ? 2 : 1;
      // strncpy stops at the string's NUL, which libxlu's buffer has right after the closing quote.
      const numbuf = src.slice(p, Math.min(p + maxlen, src.length));
      const used = strtoul(numbuf, hex ? 16 : 10).end;
      if (used <= minlen) {
        ctx.lexicalError(
          `invalid digit after backslash ${hex ? 'hex' : 'octal'}numerical character escape in quoted string`,
        );
        ctx.err = EINVAL;
        return out;
      }
      p += used;
    } else {
      ctx.lexicalError('invalid character after backlash in quoted string');
      ctx.err = EINVAL;
      return out;
    }
  }
  return out;
}
