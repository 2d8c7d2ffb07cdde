/** Docker's confirmation prompt (docker-cli command.PromptForConfirmation). */
import { createInterface } from 'node:readline';
import type { CommandContext } from './command.ts';

/** Prints `message [y/N] ` and reads one line: true for `y` or `Y` only. */
export async function confirm(ctx: CommandContext, message: string): Promise<boolean> {
  ctx.stdout.write(`${message} [y/N] `);
  const answer = (await readLine(ctx.stdin)).trim();
  return answer === 'y' || answer === 'Y';
}

/** The first line of `stream` ('' at its end). */
export async function readLine(stream: NodeJS.ReadableStream): Promise<string> {
  const lines = createInterface({ input: stream });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  return '';
}
