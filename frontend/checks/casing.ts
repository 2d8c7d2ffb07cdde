// Instruction and keyword casing: StageNameCasing and FromAsCasing (per FROM line, as
// instructions.ParseInstructionWithLinter checks them) and ConsistentInstructionCasing (the whole
// file, dockerfile2llb validateCommandCasing).
import type { Node } from '../../parser/index.ts';
import type { Linter } from './linter.ts';
import { messages, rules } from './rules.ts';

/** StageNameCasing and FromAsCasing for one FROM node. */
export function checkFromCasing(node: Node, linter: Linter): void {
  if (node.args.length !== 3) return;
  const name = node.args[2] as string;
  if (name !== name.toLowerCase())
    linter.report(rules.StageNameCasing, messages.StageNameCasing(name), node.range);
  const from = node.word;
  const as = node.args[1] as string;
  // A FROM that is itself mixed case is ConsistentInstructionCasing's; `as` is not judged then.
  const lower = from === from.toLowerCase();
  const upper = from === from.toUpperCase();
  if (!lower && !upper) return;
  if (as !== (lower ? as.toLowerCase() : as.toUpperCase())) {
    linter.report(rules.FromAsCasing, messages.FromAsCasing(from, as), node.range);
  }
}

/**
 * Every instruction from the first FROM on (ARGs before it are not counted, nor ONBUILD's inner
 * instruction) against the majority casing; a tie counts as uppercase.
 */
export function checkInstructionCasing(nodes: readonly Node[], linter: Linter): void {
  const first = nodes.findIndex((node) => node.keyword === 'FROM');
  if (first < 0) return;
  const counted = nodes.slice(first);
  let lower = 0;
  let upper = 0;
  for (const { word } of counted) {
    if (word === word.toLowerCase()) lower++;
    else if (word === word.toUpperCase()) upper++;
  }
  const majorityLower = lower > upper;
  for (const node of counted) {
    const { word } = node;
    if (majorityLower && word !== word.toLowerCase()) {
      linter.report(
        rules.ConsistentInstructionCasing,
        messages.ConsistentInstructionCasing(word, 'lowercase'),
        node.range,
      );
    } else if (!majorityLower && word !== word.toUpperCase()) {
      linter.report(
        rules.ConsistentInstructionCasing,
        messages.ConsistentInstructionCasing(word, 'uppercase'),
        node.range,
      );
    }
  }
}
