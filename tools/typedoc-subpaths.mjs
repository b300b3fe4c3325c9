// TypeDoc plugin: names each entry module after the subpath a program imports it by
// (`colo-xl/xenstored`, not `xenstore/server`), read from package.json `exports`, so the API
// pages say what to write in an import.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Converter, ReflectionKind } from 'typedoc';

/** Source barrel (lib/x/index.ts) → import name (colo-xl/x), from the package's `exports`. */
function subpathsBySource(root) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const names = new Map();
  for (const [key, target] of Object.entries(pkg.exports ?? {})) {
    const js = typeof target === 'string' ? target : target.import;
    if (!js?.startsWith('./dist/') || !js.endsWith('.js')) continue;
    const src = js.slice('./dist/'.length).replace(/\.js$/, '.ts');
    names.set(src, key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`);
  }
  return names;
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  const root = process.cwd();
  const names = subpathsBySource(root);
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Module)) return;
    const file = context.getSymbolFromReflection(reflection)?.declarations?.[0]?.getSourceFile().fileName;
    const name = file === undefined ? undefined : names.get(relative(root, file));
    if (name !== undefined) reflection.name = name;
  });
}
