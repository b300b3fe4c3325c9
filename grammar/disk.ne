# The xl disk-specification language (xl-disk-configuration(5)) as Xen 4.17's libxlutil scans it
# (tools/libs/util/libxlu_disk_l.l, as built in Debian's libxenmisc4.17).
#
# The real scanner is flex: at every position the LONGEST match wins and a tie goes to the rule
# listed first; rules with trailing context (`X/Y`) count the context's length but consume only X.
# moo is first-match, so each rule below carries the look-ahead that makes "moo matched it first"
# equal "flex would have chosen it". The comment on each rule says which flex rules it must beat.
#
# Notation for the look-aheads: a "run" is the longest stretch of [^=,] (what the positional rule
# `[^=,]*,|[^=,]+,?` matches); END is `(?![^])` (moo compiles with the `m` flag, so `$` would also
# match before every newline); flex's `.` never matches a newline.
#
# What each token does (the flex actions: positional slots, respecification checks) lives in
# lib/xlu/disk/scanner.ts; the grammar only says what a specification string is made of.

@preprocessor typescript

@{%
import { moo } from '../lib/util/cjs.js';

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

const PREFIX = `(?:${prefixes.join('|')})`;

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
  // Stacked prefixes (`tap:qcow2:`, with the blanks between them) are one moo token, split again
  // below: the look-ahead is the same at each of them (prefix names hold no '=', ',' or newline,
  // and no newline may follow in the run), and testing it once keeps the scan linear; one token
  // per prefix would rescan the rest of the run at every prefix (`'raw:'.repeat(n)`: n² steps).
  // The look-ahead for a name comes first so that other text never pays for the run test.
  prefix: new RegExp(`(?=${PREFIX}:)(?!${RUN_CROSSES_NEWLINE})(?:${PREFIX}:[ \\t]*)+`),
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

// Every token but blanks is a parameter; which kind it is (the moo rule that matched) is the
// token's type, and lib/xlu/disk/scanner.ts dispatches on it. One terminal that tests for "not a
// blank" keeps the Earley chart to a single prediction per token. (moo's has() says yes to any
// name, which would turn %parameter into a token type; answer only for real rule names.)
// (a var typed any, because nearleyc also declares one for every %name the rules use)
var parameter: any = { test: (t: moo.Token) => t.type !== 'ws' };
const ruleNames = new Set(['ws', 'kv', 'unknown', 'flag', 'prefix', 'badprefix', 'positional', 'bad']);
lexer.has = (name: string) => ruleNames.has(name);

// One parameter onto the list; a prefix stack becomes one token per prefix, as flex scans it
// (the blanks between them are blanks: skipped).
const PREFIX_PIECE = new RegExp(`${PREFIX}:`, 'g');
function pushParameter(params: moo.Token[], t: moo.Token): moo.Token[] {
  if (t.type !== 'prefix') {
    params.push(t);
    return params;
  }
  for (const m of t.text.matchAll(PREFIX_PIECE)) {
    params.push({ ...t, text: m[0], value: m[0], offset: t.offset + m.index!, col: t.col + m.index! });
  }
  return params;
}
%}

@lexer lexer

# A specification string: parameters, each optionally preceded by blanks (which are skipped).
# Left-recursive and unambiguous, so there is exactly one parse.
spec ->
    null                 {% () => [] %}
  | spec %ws             {% ([params]) => params %}
  | spec %parameter      {% ([params, t]) => pushParameter(params, t) %}
