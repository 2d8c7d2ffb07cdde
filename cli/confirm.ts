/** Docker's `[y/N]` prompt of the prune commands (docker-cli command.PromptForConfirmation). */
import { createInterface } from 'node:readline';
import type { CommandContext } from './command.ts';

/** Writes the warning and the question; true when the first line read is `y` or `yes`. */
export async function confirm(ctx: CommandContext, warning: string): Promise<boolean> {
  ctx.stdout.write(`${warning} Are you sure you want to continue? [y/N] `);
  return /^y(es)?$/i.test((await readLine(ctx.stdin)).trim());
}

async function readLine(stream: NodeJS.ReadableStream): Promise<string> {
  const lines = createInterface({ input: stream });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  return '';
}
