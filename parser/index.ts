// Public surface of parser/: Dockerfile text -> AST -> typed instructions, and shell-word expansion.
// Several people add export lines here: edit with a targeted insert, never rewrite the file.

export type { ArgCommand, Command, Instructions, RunMount, ShellOrExec, Stage } from './commands.ts';
export { type ParseOptions, parseDockerfile } from './dockerfile.ts';
export { dumpDockerfile } from './dump.ts';
export { ParseError } from './errors.ts';
export { validateGrammar } from './grammar.ts';
export { chompHeredoc, parseHeredocWord } from './heredoc.ts';
export { toInstructions } from './instructions.ts';
export * from './shell.ts';
export { suggest } from './suggest.ts';
export type { Heredoc, Node, ParsedDockerfile, Pos, Range, Warning } from './types.ts';
