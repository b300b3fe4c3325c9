/**
 * Feeds the tokens of lib/xlu/cfg/lexer.ts to the nearley grammar (grammar/xlcfg.ne) through
 * nearley's lexer interface.
 */

import type { CfgToken, TokenKind } from './lexer.js';

export interface NearleyCfgToken {
  type: string;
  value: string;
  text: string;
  line: number;
}

const TYPE: Record<Exclude<TokenKind, '$end'>, string> = {
  IDENT: 'IDENT', NUMBER: 'NUMBER', STRING: 'STRING', NEWLINE: 'NEWLINE', ',': 'COMMA', '[': 'LBRACK',
  ']': 'RBRACK', '+=': 'ADD', '=': 'EQ', ';': 'SEMI',
};

export class TokenStream {
  private i = 0;
  constructor(private readonly tokens: CfgToken[]) {}

  reset(_chunk: string, state?: { index?: number }): void {
    this.i = state?.index ?? 0;
  }

  next(): NearleyCfgToken | undefined {
    const t = this.tokens[this.i++];
    if (!t || t.kind === '$end') return undefined;
    return { type: TYPE[t.kind], value: t.value ?? '', text: t.text, line: t.line };
  }

  save(): { index: number } {
    return { index: this.i };
  }

  formatError(token: NearleyCfgToken): string {
    return `unexpected ${token.type} at line ${token.line}`;
  }

  has(name: string): boolean {
    return Object.values(TYPE).includes(name);
  }
}
