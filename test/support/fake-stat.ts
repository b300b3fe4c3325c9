import type { Stats } from 'node:fs';

/** What stat(2) would say of a file that need not exist on this machine. */
export function fakeStats(kind: 'file' | 'block' | 'char' | 'dir'): Stats {
  return {
    isFile: () => kind === 'file',
    isBlockDevice: () => kind === 'block',
    isCharacterDevice: () => kind === 'char',
    isDirectory: () => kind === 'dir',
  } as Stats;
}

/** The error stat(2) throws for a path that is not there. */
export function enoent(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOENT: no such file or directory, stat '${path}'`), { code: 'ENOENT' });
}
