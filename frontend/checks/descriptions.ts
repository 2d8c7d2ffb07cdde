// InvalidDefinitionDescription (experimental): the comment right above `FROM … AS name` or an ARG
// should start with that name, as `--call=outline` and `--call=targets` read descriptions.
// BuildKit: instructions/parse.go validateDefinitionDescription.
import type { Node } from '../../parser/index.ts';
import type { Linter } from './linter.ts';
import { messages, rules } from './rules.ts';

/**
 * The comments that describe an instruction: those directly above it after the last bare `#`
 * (BuildKit's parser starts its comment list afresh at an empty comment).
 */
export function descriptionComments(node: Node): string[] {
  const reset = node.comments.lastIndexOf('');
  return node.comments.slice(reset + 1);
}

export function checkDefinitionDescription(node: Node, linter: Linter): void {
  let instruction: string;
  let names: string[];
  if (node.keyword === 'FROM' && node.args.length === 3) {
    instruction = 'FROM';
    names = [(node.args[2] as string).toLowerCase()];
  } else if (node.keyword === 'ARG' && !node.json) {
    instruction = 'ARG';
    names = node.args.map((word) => (word.includes('=') ? word.slice(0, word.indexOf('=')) : word));
  } else return;
  const comments = descriptionComments(node);
  const last = comments[comments.length - 1];
  if (last === undefined || names.length === 0) return;
  const firstWord = last.split(' ')[0];
  if (names.includes(firstWord as string)) return;
  const example = names.length > 1 ? '<arg_key>' : (names[0] as string);
  linter.report(
    rules.InvalidDefinitionDescription,
    messages.InvalidDefinitionDescription(instruction, example),
    node.range,
  );
}
