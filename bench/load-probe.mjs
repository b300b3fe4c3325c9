// Run by load.bench.ts in a fresh node: warm the ES module loader, then time one import (ms).
// A file inside the package, so that `colo-xl/...` resolves by package self-reference.
await import('data:text/javascript,export default 1');
const t = performance.now();
await import(process.argv[2]);
console.log(performance.now() - t);
