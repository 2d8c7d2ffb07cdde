// BuildKit's `Node.Dump()` s-expression format (frontend/dockerfile/parser/parser.go), used by the
// conformance tests and `tbuild parse --dump`. See fixtures/conformance/parser/README.md.
import { quoteGo, trimGo } from './text.ts';
import type { Node, ParsedDockerfile } from './types.ts';

/** One instruction as `(keyword ["--flag"] "arg" …)`; ONBUILD nests its instruction. */
function dumpNode(node: Node): string {
  let s = node.word.toLowerCase();
  if (node.flags.length > 0) s += ` [${node.flags.map(quoteGo).join(' ')}]`;
  if (node.sub !== undefined) s += ` ${dumpNode(node.sub)}`;
  for (const arg of node.args) s += ` ${quoteGo(arg)}`;
  return `(${trimGo(s)})`;
}

/** The whole file: one line per instruction, each ending in a newline. */
export function dumpDockerfile(ast: ParsedDockerfile): string {
  let out = '';
  for (const node of ast.nodes) out += `${dumpNode(node)}\n`;
  return out;
}
