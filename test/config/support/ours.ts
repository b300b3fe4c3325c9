/** colo-xl's xlu_cfg_readdata in the shape the libxlutil oracle prints (xlucfg-oracle.ts). */
import { xluCfgReadData } from '../../../lib/xlu/cfg/parse.js';
import type { CfgValue } from '../../../lib/xlu/cfg/settings.js';
import type { OracleResult, OracleValue } from './xlucfg-oracle.js';

// Iterative: a list may be nested some thousands deep.
function plain(v: CfgValue | null): OracleValue {
  if (v === null || v.kind === 'string') return v && v.value;
  const root: OracleValue[] = [];
  const work: [CfgValue[], OracleValue[]][] = [[v.values, root]];
  for (let job = work.pop(); job; job = work.pop()) {
    for (const item of job[0]) {
      if (item.kind === 'string') {
        job[1].push(item.value);
      } else {
        const inner: OracleValue[] = [];
        job[1].push(inner);
        work.push([item.values, inner]);
      }
    }
  }
  return root;
}

export function ours(text: string, source = 'test.cfg'): OracleResult {
  const r = xluCfgReadData(text, source);
  return {
    rc: r.err,
    report: r.report,
    settings: r.config.settings.map((s) => ({ name: s.name, op: s.op, line: s.line, value: plain(s.value) })),
  };
}

/** A canonical text of a parse result, for comparing results whose lists nest too deep for JSON.stringify. */
export function resultText(r: OracleResult): string {
  const parts: string[] = [String(r.rc), JSON.stringify(r.report)];
  for (const s of r.settings) {
    parts.push(`\n${s.name} ${s.op} ${s.line} `);
    // Depth-first with an explicit stack; ']' marks where a list ends.
    const work: (OracleValue | typeof END)[] = [s.value];
    for (let v = work.pop(); v !== undefined; v = work.pop()) {
      if (v === END) parts.push(']');
      else if (Array.isArray(v)) {
        parts.push('[');
        work.push(END);
        for (let i = v.length - 1; i >= 0; i--) work.push(v[i]!);
      } else parts.push(JSON.stringify(v), ',');
    }
  }
  return parts.join('');
}
const END = Symbol('end of list');
