// The build checks as the build command uses them: the configuration from the Dockerfile and the
// build args, the warnings as progress events, and a relay that holds them until the progress
// display exists (the instructions are read, and checked, before the store is opened).
import {
  BuildError,
  CheckOptionError,
  Checks,
  type CheckWarning,
  checkConfigFor,
  formatWarningShort,
  syntaxDirectiveNote,
} from '../frontend/index.ts';
import { type Instructions, type ParsedDockerfile, ParseError } from '../parser/index.ts';
import type { ProgressSink, Renderer, WarningEvent } from '../progress/index.ts';
import { type CallRequest, printCheck, type Source } from './build-call.ts';

/** Warnings in the order they were found, to whichever display attaches. */
export class WarningRelay {
  private pending: WarningEvent[] = [];
  private sink: ProgressSink | undefined;
  /** Every warning so far (for --metadata-file). */
  readonly all: WarningEvent[] = [];

  push(event: WarningEvent): void {
    this.all.push(event);
    if (this.sink) this.sink(event);
    else this.pending.push(event);
  }

  get waiting(): number {
    return this.pending.length;
  }

  attach(sink: ProgressSink): void {
    this.sink = sink;
    for (const event of this.pending) sink(event);
    this.pending = [];
  }
}

export function checkWarningEvent(warning: CheckWarning): WarningEvent {
  return {
    type: 'warning',
    message: formatWarningShort(warning),
    location: `${warning.location.file}:${warning.location.line}`,
    rule: warning.rule,
    description: warning.description,
    url: warning.url,
    detail: warning.message,
  };
}

/**
 * The checks for `ast`: `# check=` unless `--build-arg BUILDKIT_DOCKERFILE_CHECK=…` replaces it.
 * A `# syntax=` naming another frontend is reported to `relay` first.
 */
export function openChecks(
  ast: ParsedDockerfile,
  buildArgs: Readonly<Record<string, string>>,
  relay: WarningRelay,
): Checks {
  let config: ReturnType<typeof checkConfigFor>;
  try {
    config = checkConfigFor(ast.directives.check, buildArgs.BUILDKIT_DOCKERFILE_CHECK);
  } catch (error) {
    if (error instanceof CheckOptionError) throw new BuildError(error.message);
    throw error;
  }
  const note = syntaxDirectiveNote(ast);
  if (note) relay.push({ type: 'warning', message: note.message, location: `${ast.file}:${note.line}` });
  return new Checks(ast, { config, onWarning: (warning) => relay.push(checkWarningEvent(warning)) });
}

/**
 * The instructions, read through the checks. On a parse error the warnings found before it are
 * shown first (BuildKit warns, then fails); under `--call=check` the error is the check's result
 * (its exit code is returned instead of instructions).
 */
export function readInstructions(
  checks: Checks,
  relay: WarningRelay,
  how: { call?: CallRequest; show: () => Renderer; source: Source; write: (text: string) => void },
): Instructions | number {
  try {
    return checks.instructions();
  } catch (error) {
    if (how.call?.name === 'lint' && error instanceof ParseError) {
      const message = `dockerfile parse error on line ${error.line}: ${error.reason}`;
      return printCheck(how.call, how.source, checks.warnings, { message, line: error.line }, how.write);
    }
    if (relay.waiting > 0 && !how.call) {
      const early = how.show();
      relay.attach(early.sink);
      early.close();
    }
    throw error;
  }
}
