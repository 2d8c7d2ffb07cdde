// Public surface of frontend/checks: BuildKit's build checks (frontend/dockerfile/linter), run
// while a Dockerfile is read and converted. One `Checks` per build: the CLI makes it from the
// parsed file and the check configuration, reads the instructions through it, and hands it to
// `convert`, which calls it at the three points BuildKit's rules need (before any stage, at each
// stage, before each instruction). Its warnings are plain data for the progress renderers and
// `--call=check`.
import {
  type Command,
  type Instructions,
  type Node,
  type ParsedDockerfile,
  ParseError,
  type Range,
  type Stage,
  toInstructions,
} from '../../parser/index.ts';
import { compileDockerignore } from '../dockerignore.ts';
import { checkFromCasing, checkInstructionCasing } from './casing.ts';
import { checkEmptyContinuations, checkMaintainer } from './deprecated.ts';
import { checkDefinitionDescription } from './descriptions.ts';
import { type CommandFacts, DispatchChecks } from './dispatch.ts';
import { checkFromLines } from './from.ts';
import { type CheckConfig, type CheckWarning, Linter } from './linter.ts';
import { checkStageNames } from './stage-names.ts';

export { descriptionComments } from './descriptions.ts';
export type { CommandFacts } from './dispatch.ts';
export {
  type CheckConfig,
  type CheckLocation,
  CheckOptionError,
  type CheckWarning,
  checkConfigFor,
  formatWarningShort,
  parseCheckOptions,
} from './linter.ts';
export { type CheckRule, rules } from './rules.ts';

export interface ChecksOptions {
  config: CheckConfig;
  /** Called as each warning is found (streaming progress); they are also kept in `warnings`. */
  onWarning?: (warning: CheckWarning) => void;
}

/** What the conversion passes before it converts any stage. */
export interface ConvertContext {
  buildArgs: Readonly<Record<string, string>>;
  platformArgs: ReadonlyMap<string, string>;
  /** The .dockerignore patterns (CopyIgnoredFile). */
  excludes: readonly string[];
}

export class Checks {
  readonly linter: Linter;
  private readonly ast: ParsedDockerfile;
  private readonly fromNodes: Node[];
  private dispatch: DispatchChecks | undefined;

  constructor(ast: ParsedDockerfile, options: ChecksOptions) {
    this.ast = ast;
    this.linter = new Linter(options.config, ast.file, options.onWarning);
    this.fromNodes = ast.nodes.filter((node) => node.keyword === 'FROM');
  }

  get warnings(): readonly CheckWarning[] {
    return this.linter.warnings;
  }

  /**
   * The typed instructions (parser `toInstructions`), with the checks BuildKit runs while it
   * parses them: empty continuation lines, then per instruction stage-name and FROM/AS casing,
   * MAINTAINER and definition comments. On a parse error the instructions before the failing
   * one are still checked (BuildKit warns about those, then fails), and the error is rethrown.
   */
  instructions(): Instructions {
    checkEmptyContinuations(this.ast, this.linter);
    let instructions: Instructions;
    try {
      instructions = toInstructions(this.ast);
    } catch (error) {
      // BuildKit's per-instruction rules run before the instruction is parsed (and may fail).
      const line = error instanceof ParseError ? error.line : undefined;
      this.checkNodes(line);
      throw error;
    }
    this.checkNodes(undefined);
    checkInstructionCasing(this.ast.nodes, this.linter);
    return instructions;
  }

  /** The file-level checks that need the stages: names and FROM lines (every stage, reachable or not). */
  beforeConvert(instructions: Instructions, context: ConvertContext): void {
    const fromRanges = this.fromNodes.map((node) => node.range);
    checkStageNames(instructions.stages, fromRanges, this.linter);
    checkFromLines(
      {
        stages: instructions.stages,
        metaArgs: instructions.metaArgs,
        fromRanges,
        buildArgs: context.buildArgs,
        platformArgs: context.platformArgs,
        escape: this.ast.escape,
      },
      this.linter,
    );
    const ignore = context.excludes.length > 0 ? compileDockerignore(context.excludes) : undefined;
    this.dispatch = new DispatchChecks(this.linter, this.ast.escape, context.buildArgs, ignore);
  }

  /** A stage is about to be dispatched; `base` is the stage it is built on, if any. */
  stage(stage: Stage, base: Stage | undefined): void {
    this.dispatch?.stage(stage, base);
  }

  /** An instruction of `stage` is about to be dispatched. */
  command(stage: Stage, command: Command, facts: CommandFacts): void {
    this.dispatch?.command(stage, command, facts);
  }

  /** The FROM line of stage `index` (where a base image's ONBUILD triggers are reported). */
  fromRange(index: number): Range | undefined {
    return this.fromNodes[index]?.range;
  }

  /** `error=true` and a rule reported: the message the build fails with. */
  violation(): string | undefined {
    return this.linter.violation();
  }

  private checkNodes(throughLine: number | undefined): void {
    for (const node of this.ast.nodes) {
      if (throughLine !== undefined && node.range.start.line > throughLine) break;
      if (node.keyword === 'FROM') checkFromCasing(node, this.linter);
      checkMaintainer(node, this.linter);
      checkDefinitionDescription(node, this.linter);
    }
  }
}
