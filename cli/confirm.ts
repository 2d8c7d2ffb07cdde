/** Docker's `[y/N]` prompt of the prune commands (docker-cli command.PromptForConfirmation). */
import { createInterface } from 'node:readline';
import type { CommandContext } from './command.ts';

/**
 * Writes the question (the caller's warning and `Are you sure you want to continue?`, on one line
 * or two as Docker's command has it) and `[y/N] `; true when the first line read is `y` or `yes`.
 */
export async function confirm(ctx: CommandContext, question: string): Promise<boolean> {
  ctx.stdout.write(`${question} [y/N] `);
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
