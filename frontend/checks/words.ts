// Small readers shared by the rules.
import type { Command } from '../../parser/index.ts';

/** The instruction word as written (`cmd`, `CMD`): BuildKit's Command.Name() keeps the case. */
export function instructionWord(command: Command): string {
  return /^\S+/.exec(command.source)?.[0] ?? command.kind.toUpperCase();
}
