// LegacyKeyValueFormat: `ENV key value` / `LABEL key value`. BuildKit: dispatchEnv, dispatchLabel.
import type { Command } from '../../parser/index.ts';
import type { Linter } from './linter.ts';
import { messages, rules } from './rules.ts';
import { instructionWord } from './words.ts';

export function checkKeyValueFormat(command: Command, linter: Linter, range = command.range): void {
  if ((command.kind === 'env' || command.kind === 'label') && command.legacy) {
    linter.report(rules.LegacyKeyValueFormat, messages.LegacyKeyValueFormat(instructionWord(command)), range);
  }
}
