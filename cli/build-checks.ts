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
import type { ParsedDockerfile } from '../parser/index.ts';
import type { ProgressSink, WarningEvent } from '../progress/index.ts';

/** Warnings in the order they were found, to whichever display attaches. */
export class WarningRelay {
  private pending: WarningEvent[] = [];
  private sink: ProgressSink | undefined;

  push(event: WarningEvent): void {
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
