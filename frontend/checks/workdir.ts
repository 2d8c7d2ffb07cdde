// WorkdirRelativePath: the first WORKDIR of a stage chain (a base image's does not count) is
// relative. BuildKit: dispatchWorkdir with commit=true, dispatchState.workdirSet.
import type { Range } from '../../parser/index.ts';
import type { Linter } from './linter.ts';
import { messages, rules } from './rules.ts';

/** Returns the new `workdirSet` (true from the first WORKDIR on). `path` is expanded. */
export function checkWorkdir(path: string, workdirSet: boolean, range: Range, linter: Linter): boolean {
  if (!workdirSet && !path.startsWith('/')) {
    linter.report(rules.WorkdirRelativePath, messages.WorkdirRelativePath(path), range);
  }
  return true;
}
