// Public surface of parser/: Dockerfile text -> AST -> typed instructions, and shell-word expansion.
// Several people add export lines here: edit with a targeted insert, never rewrite the file.
export * from './shell.ts';
