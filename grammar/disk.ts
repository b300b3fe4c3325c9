// Generated automatically by nearley, version 2.20.1
// http://github.com/Hardmath123/nearley
// Bypasses TS6133. Allow declared but unused functions.
// @ts-ignore
function id(d: any[]): any { return d[0]; }
declare var ws: any;
declare var kv: any;
declare var unknown: any;
declare var flag: any;
declare var prefix: any;
declare var badprefix: any;
declare var positional: any;
declare var bad: any;

import moo from 'moo';

const END = '(?![^])';

// A run of [^=,] starting here reaches a newline before any '=' or ','. Rules whose flex length
// stops at the end of the line (`.*`, `/.*` contexts) lose to the positional rule exactly then.
const RUN_CROSSES_NEWLINE = '[^=,\\n]*\\n';

// `key=[^,]*,?`: always at least as long as the unknown-parameter rule and the positional rule
// at the same place, and listed before both, so these need no look-ahead.
const valueKeys = [
  'format', 'access', 'backend', 'backendtype', 'specification', 'vdev', 'script',
  'colo-host', 'colo-port', 'colo-export', 'active-disk', 'hidden-disk',
];

// Bare flags (`cdrom,?`). One ties with the positional rule when the next character is ',', '='
// or the end (the flag is listed first); any other next character makes the positional longer.
// `trusted`/`untrusted` are not here: Debian's 4.17 libxlutil does not know them.
const flags = ['direct-io-safe', 'no-discard', 'discard', 'no-colo', 'colo', 'cdrom'];

// Deprecated prefixes (`raw:/.*` and friends): their trailing context runs to the end of the
// line, so they beat everything unless the positional run crosses a newline.
const prefixes = [
  'raw', 'qcow2', 'qcow', 'vhd', 'iscsi', 'enbd', 'nbd', 'drbd',
  'tapdisk', 'tap2', 'tap', 'aio', 'ioemu', 'file', 'phy',
];

const lexer = moo.compile({
  // `[ \t\n]+/([^ \t\n].*)?`: the whole blank run plus the rest of the line. Only a positional
  // run that crosses a newline after the blanks is longer (then the blanks belong to a value).
  ws: {
    match: new RegExp(`[ \\t\\n]+(?![ \\t\\n])(?!${RUN_CROSSES_NEWLINE})`),
    lineBreaks: true,
  },
  // Keyword rules. `devtype=cdrom`/`devtype=disk` beat `devtype=[^,]*,?` only when they are the
  // whole value; `target=.*` eats the rest of the line but loses to the one-character
  // unknown-parameter rule when the value starts with a newline.
  kv: {
    match: new RegExp(
      [
        `devtype=(?:cdrom|disk)(?:,|${END})`,
        `devtype=[^,]*,?`,
        ...valueKeys.map((k) => `${k}=[^,]*,?`),
        `target=(?!\\n)[^\\n]*`,
      ].join('|'),
    ),
    lineBreaks: true,
  },
  // `[a-z][-a-z0-9]*=[^,],?`: exactly one non-comma character after '=' (libxlu's quirk).
  unknown: { match: /[a-z][-a-z0-9]*=[^,],?/, lineBreaks: true },
  flag: new RegExp(`(?:${flags.join('|')})(?:,|(?![^=,]))`),
  prefix: new RegExp(`(?:${prefixes.join('|')}):(?!${RUN_CROSSES_NEWLINE})`),
  // `[a-z][a-z0-9]*:/([^a-z0-9].*)?`: the context is empty before a letter or digit (the
  // positional run is then longer), else it is one character plus the rest of that line.
  badprefix: new RegExp(
    '[a-z][a-z0-9]*:(?:' +
      [
        `(?=[=,]|${END})`,
        `(?=\\n(?!${RUN_CROSSES_NEWLINE}))`,
        `(?=[^a-z0-9=,\\n])(?!${RUN_CROSSES_NEWLINE})`,
      ].join('|') +
      ')',
  ),
  positional: { match: /[^=,]+,?|,/, lineBreaks: true },
  // `.` then `<LEXERR>.*`: only '=' reaches here; flex keeps it and the rest of the line.
  bad: /=[^\n]*/,
});

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
    {"name": "spec$ebnf$1", "symbols": []},
    {"name": "spec$ebnf$1", "symbols": ["spec$ebnf$1", "part"], "postprocess": (d) => d[0].concat([d[1]])},
    {"name": "spec", "symbols": ["spec$ebnf$1"], "postprocess": ([parts]) => parts.filter((p: unknown) => p !== null)},
    {"name": "part", "symbols": [(lexer.has("ws") ? {type: "ws"} : ws)], "postprocess": () => null},
    {"name": "part", "symbols": [(lexer.has("kv") ? {type: "kv"} : kv)], "postprocess": ([t]) => t},
    {"name": "part", "symbols": [(lexer.has("unknown") ? {type: "unknown"} : unknown)], "postprocess": ([t]) => t},
    {"name": "part", "symbols": [(lexer.has("flag") ? {type: "flag"} : flag)], "postprocess": ([t]) => t},
    {"name": "part", "symbols": [(lexer.has("prefix") ? {type: "prefix"} : prefix)], "postprocess": ([t]) => t},
    {"name": "part", "symbols": [(lexer.has("badprefix") ? {type: "badprefix"} : badprefix)], "postprocess": ([t]) => t},
    {"name": "part", "symbols": [(lexer.has("positional") ? {type: "positional"} : positional)], "postprocess": ([t]) => t},
    {"name": "part", "symbols": [(lexer.has("bad") ? {type: "bad"} : bad)], "postprocess": ([t]) => t}
  ],
  ParserStart: "spec",
};

export default grammar;
