// CMD, ENTRYPOINT and HEALTHCHECK: JSONArgsRecommended (shell form while no SHELL says which
// shell) and MultipleInstructionsDisallowed (reported at the earlier one, the one that is lost).
// BuildKit: dispatchCmd, dispatchEntrypoint, dispatchHealthcheck, validateUsedOnce.
import type { Command, Range } from '../../parser/index.ts';
import type { Linter } from './linter.ts';
import { messages, rules } from './rules.ts';
import { instructionWord } from './words.ts';

/** The last CMD/ENTRYPOINT/HEALTHCHECK of a stage so far (a child stage starts afresh). */
export type UsedOnce = Map<'cmd' | 'entrypoint' | 'healthcheck', Range>;

export function checkOnceOnly(command: Command, used: UsedOnce, linter: Linter, range = command.range): void {
  if (command.kind !== 'cmd' && command.kind !== 'entrypoint' && command.kind !== 'healthcheck') return;
  const earlier = used.get(command.kind);
  if (earlier) {
    linter.report(
      rules.MultipleInstructionsDisallowed,
      messages.MultipleInstructionsDisallowed(instructionWord(command)),
      earlier,
    );
  }
  used.set(command.kind, range);
}

/** `shellSet`: the image config has a Shell (a SHELL here, in a parent stage or in the base image). */
export function checkJsonArgs(
  command: Command,
  shellSet: boolean,
  linter: Linter,
  range = command.range,
): void {
  if (
    (command.kind === 'cmd' || command.kind === 'entrypoint') &&
    command.cmd.form === 'shell' &&
    !shellSet
  ) {
    linter.report(rules.JSONArgsRecommended, messages.JSONArgsRecommended(instructionWord(command)), range);
  }
}
