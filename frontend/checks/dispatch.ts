// The checks that follow the conversion instruction by instruction, for the stages it converts
// (in a build: those the target needs; with --call=check: all of them, as BuildKit's lint
// subrequest dispatches every stage). Each stage carries what BuildKit's dispatchState carries:
// whether a WORKDIR was set, the ARG names in scope and the last CMD/ENTRYPOINT/HEALTHCHECK; a
// stage built on another starts from that one's first two.
import { type Command, expandWord, expandWords, type Range, type Stage } from '../../parser/index.ts';
import type { DockerignoreMatcher } from '../dockerignore.ts';
import { checkJsonArgs, checkOnceOnly, type UsedOnce } from './commands.ts';
import { checkCopySource } from './copy-ignored.ts';
import { checkExposedPort } from './expose.ts';
import { checkKeyValueFormat } from './key-value.ts';
import type { Linter } from './linter.ts';
import { checkSecretName } from './secrets.ts';
import { checkCommandVariables, checkWordVariables, type VariableScope } from './variables.ts';
import { checkWorkdir } from './workdir.ts';

/** What the conversion knows when it is about to dispatch an instruction. */
export interface CommandFacts {
  /** The stage's environment before the instruction: ENV and valued ARGs. */
  env: ReadonlyMap<string, string>;
  /** The image config has a Shell (SHELL here, in a parent stage, or the base image's). */
  shellSet: boolean;
  /** Where to report; by default the instruction (a base image's ONBUILD trigger: the FROM line). */
  range?: Range;
}

interface StageScope {
  workdirSet: boolean;
  declared: Set<string>;
  used: UsedOnce;
}

export class DispatchChecks {
  private readonly scopes = new Map<number, StageScope>();
  private readonly linter: Linter;
  private readonly escape: '\\' | '`';
  private readonly buildArgs: Readonly<Record<string, string>>;
  private readonly ignore: DockerignoreMatcher | undefined;

  constructor(
    linter: Linter,
    escapeChar: '\\' | '`',
    buildArgs: Readonly<Record<string, string>>,
    ignore: DockerignoreMatcher | undefined,
  ) {
    this.linter = linter;
    this.escape = escapeChar;
    this.buildArgs = buildArgs;
    this.ignore = ignore;
  }

  /** A stage starts; `base` is the stage it is built FROM, already converted. */
  stage(stage: Stage, base: Stage | undefined): void {
    const parent = base === undefined ? undefined : this.scopes.get(base.index);
    this.scopes.set(stage.index, {
      workdirSet: parent?.workdirSet ?? false,
      declared: new Set(parent?.declared),
      used: new Map(),
    });
  }

  command(stage: Stage, command: Command, facts: CommandFacts): void {
    const scope = this.scopes.get(stage.index);
    if (scope === undefined) return;
    const range = facts.range ?? command.range;
    const variables: VariableScope = { env: facts.env, declared: scope.declared, escape: this.escape };
    const linter = this.linter;
    switch (command.kind) {
      case 'arg': {
        // One by one: an ARG's default sees the names (and values) before it on the same line.
        const env = new Map(facts.env);
        for (const { key, value } of command.args) {
          checkSecretName('ARG', key, range, linter);
          let resolved: string | undefined;
          if (key in this.buildArgs) resolved = this.buildArgs[key];
          else if (value !== undefined) {
            resolved = checkWordVariables(
              value,
              { ...variables, env, declared: scope.declared },
              range,
              linter,
            );
          }
          scope.declared.add(key);
          if (resolved !== undefined) env.set(key, resolved);
        }
        return;
      }
      case 'env':
        checkKeyValueFormat(command, linter, range);
        for (const [key] of command.pairs) {
          const expanded = checkWordVariables(key, variables, range, linter) ?? key;
          checkSecretName('ENV', expanded, range, linter);
        }
        for (const [, value] of command.pairs) checkWordVariables(value, variables, range, linter);
        return;
      case 'label':
        checkKeyValueFormat(command, linter, range);
        checkCommandVariables(command, variables, range, linter);
        return;
      case 'cmd':
      case 'entrypoint':
        checkOnceOnly(command, scope.used, linter, range);
        checkJsonArgs(command, facts.shellSet, linter, range);
        return;
      case 'healthcheck':
        checkOnceOnly(command, scope.used, linter, range);
        return;
      case 'workdir': {
        const path = checkWordVariables(command.value, variables, range, linter);
        if (path !== undefined) scope.workdirSet = checkWorkdir(path, scope.workdirSet, range, linter);
        return;
      }
      case 'copy':
      case 'add': {
        checkCommandVariables(command, variables, range, linter);
        if (command.kind === 'copy' && command.from !== undefined) return;
        for (const source of command.sources) {
          const expanded = quietly(() => expandWord(source, facts.env, { escapeChar: this.escape }));
          if (expanded === undefined) continue;
          checkCopySource(command.kind === 'copy' ? 'Copy' : 'Add', expanded, this.ignore, range, linter);
        }
        return;
      }
      case 'expose':
        for (const value of command.values) {
          for (const port of quietly(() => expandWords(value, facts.env, { escapeChar: this.escape })) ??
            []) {
            checkExposedPort(port, range, linter);
          }
        }
        return;
      default:
        checkCommandVariables(command, variables, range, linter);
        return;
    }
  }
}

function quietly<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined; // the conversion reports the error
  }
}
