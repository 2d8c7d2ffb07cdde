// Stage names: DuplicateStageName (a warning, not an error: the last stage of a name before the
// one that uses it wins) and ReservedStageName. BuildKit: dockerfile2llb validateStageNames.
import type { Range, Stage } from '../../parser/index.ts';
import type { Linter } from './linter.ts';
import { messages, rules } from './rules.ts';

const reserved = new Set(['context', 'scratch']);

/** `fromRanges[i]` is stage i's FROM line. Names are already lower-cased. */
export function checkStageNames(
  stages: readonly Stage[],
  fromRanges: readonly Range[],
  linter: Linter,
): void {
  const seen = new Set<string>();
  for (const stage of stages) {
    if (stage.name === undefined) continue;
    const range = fromRanges[stage.index] ?? stage.range;
    if (reserved.has(stage.name))
      linter.report(rules.ReservedStageName, messages.ReservedStageName(stage.name), range);
    if (seen.has(stage.name))
      linter.report(rules.DuplicateStageName, messages.DuplicateStageName(stage.name), range);
    seen.add(stage.name);
  }
}
