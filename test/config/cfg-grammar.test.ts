import assert from 'node:assert/strict';
import nearley from 'nearley';
import grammar from '../../grammar/xlcfg.js';
import { CfgParseContext, CfgScanner, type CfgToken } from '../../lib/xlu/cfg/lexer.js';
import { xluCfgReadData } from '../../lib/xlu/cfg/parse.js';
import { TokenStream } from '../../lib/xlu/cfg/token-stream.js';
import { libxluParse } from './support/xlucfg-oracle.js';
import { ours } from './support/ours.js';
import { Rng } from './support/config-gen.js';

const FRAGMENTS = [
  'a', 'b', 'name', 'x.y', 'k_1', '1', '0x1f', '077', '9z', '"s"', "'t'", '"e\\n\\"q"', "'\\123'", "'\\x41'", '"\\q"',
  '"unterminated', "'a\\\\b'", '=', '+=', '[', ']', ',', ';', '\n', '\n', '# c\n', ' ', '\t', '$', '+', '-', '.', '(',
  ')', ':', 'A', '\r', '#', '"x\ny"',
];

function randomText(r: Rng): string {
  let s = '';
  const n = 1 + r.int(25);
  for (let j = 0; j < n; j++) {
    if (r.chance(0.5)) {
      const v = r.pick(['1', '"v"', '[1,"x"]', '[\n"a",\n]', '[]', "'q'"]);
      s += `${r.pick(['a', 'b', 'c'])}${r.chance(0.3) ? ' += ' : ' = '}${v}${r.chance(0.8) ? '\n' : ';'}`;
    } else {
      s += r.pick(FRAGMENTS);
    }
  }
  return s;
}

describe('xl.cfg parser vs libxlutil 4.17 (xlu_cfg_readdata)', function () {
  this.timeout(60_000);

  it('agrees on hand-picked inputs: reports, line numbers, recovery, += and escapes', () => {
    const inputs = [
      'a = ', 'a = \n', 'a = [', 'a = [1,\n\n', '# comment', 'a=1\n# comment', 'a=1\n$', 'a=1\n$x', 'a=1\n  x',
      'a=1\n= 2\n', 'a = = 1\nb = = 2\n', 'a = = 1\n= 2\n', 'a = "\\x41"\n', "a = '\\12'\n", "a = '\\123x'\n",
      "a = '\\q'\n", 'a = "x" b\n', 'a = ["x"\n, "y"]\nb += "z"\n', 'a = "x"\na += ["z"]\n', 'A = 1\n',
      'a.b_c = 0x1g\n', 'a=1;;b=2;\n\n;', 'a = +', 'a = 1 +', 'x=[1,[2,3],[]]\ny=[\n]\nz=[,]', "name='a' # c\n",
      'a="x"\na+="y"\na+="z"', 'l=[1]\nl+=[2,3]\n', "q = 'it\\'s' \"d\\\"q\\n\\t\"", '\r\na=1', 'a=1\r\n',
      'a=1 b\nc=2\n', 'a=1\nb\n=3\nc=[1 2]\nd=4\n', '',
    ];
    const real = libxluParse(inputs);
    inputs.forEach((text, i) => assert.deepEqual(ours(text), real[i], `input ${JSON.stringify(text)}`));
  });

  it('agrees on 6000 random token soups', () => {
    const rng = new Rng(4242);
    const inputs = Array.from({ length: 6000 }, () => randomText(rng));
    const real = libxluParse(inputs, 'soup.cfg');
    const bad = inputs.filter((text, i) => JSON.stringify(ours(text, 'soup.cfg')) !== JSON.stringify(real[i]));
    assert.deepEqual(bad.slice(0, 5), []);
    // The soups must reach both paths: clean parses and every kind of report.
    const reports = real.map((r) => r.report).join('');
    for (const needle of ['lexical error', 'syntax error', "can't add [list]", 'Python code', 'character escape']) {
      assert.ok(reports.includes(needle), needle);
    }
    const clean = real.filter((r) => r.rc === 0).length;
    assert.ok(clean > 300, `only ${clean} clean parses`);
  });

  it('the nearley grammar gives exactly one parse of a valid file', () => {
    const text = 'a = 1\nb = [ "x",\n\n "y", [1, 2,],\n]; c += \'z\'\n\nd = []\ne = [\n]';
    const ctx = new CfgParseContext('t');
    const s = new CfgScanner(text, ctx);
    const tokens: CfgToken[] = [];
    for (let t = s.next(); ; t = s.next()) {
      tokens.push(t);
      if (t.kind === '$end') break;
    }
    const p = new nearley.Parser(nearley.Grammar.fromCompiled(grammar), { lexer: new TokenStream(tokens) });
    p.feed('');
    assert.equal(p.results.length, 1);
    assert.deepEqual(ours(text, 't').settings.map((x) => x.name), ['e', 'd', 'c', 'b', 'a']);
  });

  it('getters print libxlu warnings with the setting line', () => {
    const { config } = xluCfgReadData('n = [1]\nm = "12abc"\nk += 5\nbig = 99999999999999999999\n', 'w.cfg');
    let out = '';
    config.report = (t) => (out += t);
    assert.equal(config.getString('n'), 22);
    assert.equal(config.getLong('m'), 22);
    assert.equal(config.getLong('k'), 22);
    assert.equal(config.getLong('big'), 34);
    assert.equal(config.getList('m'), 22);
    assert.equal(config.getString('none'), 3);
    assert.equal(
      out,
      "w.cfg:1: warning: parameter `n' is a list but should be a single value\n" +
        "w.cfg:2: warning: parameter `m' is not a valid number\n" +
        "w.cfg:3: warning: can't use += with numbers for parameter `k'\n" +
        "w.cfg:4: warning: parameter `big' could not be parsed as a number: Numerical result out of range\n" +
        "w.cfg:2: warning: parameter `m' is a single value but should be a list\n",
    );
  });
});
