/**
 * How the tests start tbuild: through bin/tbuild.js, the entry point users run (`npx tbuild`).
 * It runs the bundle (dist/tbuild.cjs, made by `npm ci` and `npm run bundle`) while that is newer
 * than every source, as on a fresh clone and in CI, and the TypeScript sources through tsx after
 * an edit, so a test never runs stale code and CI tests what ships.
 */
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..');

/** The shipped entry point. */
export const tbuildEntry = join(repo, 'bin', 'tbuild.js');

/** node's argv for `tbuild ...args`: spawn(process.execPath, tbuildArgv(args)). */
export function tbuildArgv(args: string[]): string[] {
  return [tbuildEntry, ...args];
}
