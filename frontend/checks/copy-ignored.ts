// CopyIgnoredFile (experimental): a COPY (from the context) or ADD source that .dockerignore
// excludes, so the build cannot see it. BuildKit: dockerfile2llb validateCopySourcePath, which asks
// patternmatcher's MatchesOrParentMatches about the source as written (expanded).
import type { Range } from '../../parser/index.ts';
import type { DockerignoreMatcher } from '../dockerignore.ts';
import type { Linter } from './linter.ts';
import { messages, rules } from './rules.ts';

export function checkCopySource(
  instruction: 'Copy' | 'Add',
  source: string,
  ignore: DockerignoreMatcher | undefined,
  range: Range,
  linter: Linter,
): void {
  if (ignore === undefined || /^https?:\/\//i.test(source)) return;
  if (ignore.matches(source))
    linter.report(rules.CopyIgnoredFile, messages.CopyIgnoredFile(instruction, source), range);
}
