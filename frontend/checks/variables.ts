// UndefinedVar: a `$NAME` in an instruction that expands it while neither an ARG of the stage
// (inherited ones included, valued or not) nor the environment defines it. The words are those
// BuildKit's instructions expand (SupportsSingleWordExpansion: ENV, LABEL, COPY, ADD, WORKDIR,
// USER, VOLUME, STOPSIGNAL, RUN --mount fields; heredoc bodies raw; ARG defaults in
// dispatchArg); EXPOSE, RUN, CMD and the rest are not (the shell expands those, or nothing does).
// BuildKit: dockerfile2llb dispatch and reportUnmatchedVariables.
import { type Command, expandWordWithMatches, type Range, type ShellLexOptions } from '../../parser/index.ts';
import type { Linter } from './linter.ts';
import { messages, rules } from './rules.ts';
import { searchSuggestion } from './suggest.ts';

/** Never reported: BuildKit's nonEnvArgs, read by the frontend and not put into the environment. */
const nonEnvArgs = new Set(['BUILDKIT_SBOM_SCAN_CONTEXT', 'BUILDKIT_SBOM_SCAN_STAGE']);

export interface VariableScope {
  /** The environment the instruction expands with: the stage's ENV and valued ARGs. */
  env: ReadonlyMap<string, string>;
  /** ARG names declared in the stage and the stages it is built on. */
  declared: ReadonlySet<string>;
  escape: '\\' | '`';
}

/** The words of `command` that the frontend expands: plain, and heredoc bodies (quotes kept). */
function expandedWords(command: Command): { words: string[]; raw: string[] } {
  const words: string[] = [];
  const raw: string[] = [];
  switch (command.kind) {
    case 'env':
    case 'label':
      for (const [key, value] of command.pairs) words.push(key, value);
      break;
    case 'copy':
    case 'add':
      if (command.chown !== undefined) words.push(command.chown);
      if (command.chmod !== undefined) words.push(command.chmod);
      if (command.kind === 'add' && command.checksum !== undefined) words.push(command.checksum);
      words.push(...command.sources, command.dest);
      for (const heredoc of command.heredocs) if (heredoc.expand) raw.push(heredoc.content);
      break;
    case 'workdir':
    case 'user':
    case 'stopsignal':
      words.push(command.value);
      break;
    case 'volume':
      words.push(...command.values);
      break;
    case 'run':
      for (const mount of command.mounts) {
        for (const field of [mount.target, mount.source, mount.id, mount.env, mount.size]) {
          if (field !== undefined) words.push(field);
        }
      }
      break;
    default:
      break;
  }
  return { words, raw };
}

/** Expands `word` and reports each unset, undeclared name it used (one report per word, as BuildKit). */
export function checkWordVariables(
  word: string,
  scope: VariableScope,
  range: Range,
  linter: Linter,
  options: ShellLexOptions = { escapeChar: scope.escape },
): string | undefined {
  let result: ReturnType<typeof expandWordWithMatches>;
  try {
    result = expandWordWithMatches(word, scope.env, options);
  } catch {
    return undefined; // the conversion reports the error
  }
  for (const name of result.unmatched) {
    if (scope.declared.has(name) || nonEnvArgs.has(name)) continue;
    linter.report(
      rules.UndefinedVar,
      messages.UndefinedVar(name, searchSuggestion(name, scope.env.keys())),
      range,
    );
  }
  return result.word;
}

/** UndefinedVar for every word `command` expands (ARG is the caller's: its names add up one by one). */
export function checkCommandVariables(
  command: Command,
  scope: VariableScope,
  range: Range,
  linter: Linter,
): void {
  const { words, raw } = expandedWords(command);
  for (const word of words) checkWordVariables(word, scope, range, linter);
  // Heredoc bodies expand like double-quoted text, with `\` as escape whatever the Dockerfile's.
  for (const body of raw)
    checkWordVariables(body, scope, range, linter, { escapeChar: '\\', skipProcessQuotes: true });
}
