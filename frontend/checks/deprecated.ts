// Forms BuildKit still accepts but means to drop: empty continuation lines (reported from the
// parser's warnings, dockerfile2llb toDispatchState) and MAINTAINER (instructions.ParseInstructionWithLinter).
import type { Node, ParsedDockerfile } from '../../parser/index.ts';
import type { Linter } from './linter.ts';
import { messages, rules } from './rules.ts';

/** NoEmptyContinuation, at the last line of the instruction that had the empty line. */
export function checkEmptyContinuations(ast: ParsedDockerfile, linter: Linter): void {
  for (const warning of ast.warnings) {
    if (!warning.message.startsWith('Empty continuation line found in:')) continue;
    const line = warning.range.end.line;
    linter.report(rules.NoEmptyContinuation, messages.NoEmptyContinuation(), {
      start: { line, col: 1 },
      end: { line, col: 1 },
    });
  }
}

export function checkMaintainer(node: Node, linter: Linter): void {
  if (node.keyword === 'MAINTAINER')
    linter.report(rules.MaintainerDeprecated, messages.MaintainerDeprecated(), node.range);
}
