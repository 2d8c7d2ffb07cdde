import { TbuildError } from '../errors.ts';

/**
 * A build step failed. The message names the step as the progress display does
 * (`[build 2/5] RUN make`), says where it is in the Dockerfile and why it failed; `logTail` holds
 * the last lines the step printed, which the CLI shows under the message.
 */
export class StepError extends TbuildError {
  readonly step: string;
  readonly location: string | undefined;
  readonly logTail: string[];

  constructor(
    step: string,
    location: string | undefined,
    reason: string,
    logTail: string[] = [],
    cause?: unknown,
    hint?: string,
  ) {
    super(`${location ? `${location}: ` : ''}${step}: ${reason}`, {
      ...(cause === undefined ? {} : { cause }),
      ...(hint === undefined ? {} : { hint }),
    });
    this.step = step;
    this.location = location;
    this.logTail = logTail;
  }
}
