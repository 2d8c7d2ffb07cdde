/**
 * What the container commands share: the argv by which a container's monitor calls this same
 * tbuild back (conmon's exit command), and Docker's way with several containers in one command
 * (`stop a b c`: each one's name on success, one error line for each failure, exit 1 if any).
 */
import { TbuildError } from '../errors.ts';
import { resolveRoot } from '../image/index.ts';
import { restoreForwarder } from '../runtime/index.ts';
import type { CommandContext } from './command.ts';

/** The store root of this command. */
export function containerRoot(ctx: CommandContext): string {
  return resolveRoot(ctx.globals.root);
}

/**
 * `node [its flags] <this script> --root ROOT`: conmon runs it from the directory it was started
 * in (ours), so a relative `--import tsx` resolves the same way.
 */
export function selfCommand(ctx: CommandContext): string[] {
  return [process.execPath, ...process.execArgv, process.argv[1] as string, '--root', containerRoot(ctx)];
}

/**
 * Runs `action` for each reference; prints the reference (or what `action` returns) per success.
 * An error `tolerated` says is printed but does not fail the command (`rm -f` of a missing one).
 */
export async function forEachContainer(
  ctx: CommandContext,
  refs: string[],
  action: (ref: string) => Promise<unknown>,
  tolerated: (error: TbuildError) => boolean = () => false,
): Promise<number> {
  let failed = false;
  for (const ref of refs) {
    try {
      const shown = await action(ref);
      ctx.stdout.write(`${typeof shown === 'string' ? shown : ref}\n`);
    } catch (error) {
      if (!(error instanceof TbuildError)) throw error;
      if (!tolerated(error)) failed = true;
      ctx.stderr.write(`ERROR: ${error.message}\n`);
    }
  }
  return failed ? 1 : 0;
}

/**
 * Serves a running container's published ports again if their forwarder died
 * (runtime/network/forwarder-restore.ts); a loss is said on stderr, as a warning.
 */
export async function keepPortsServed(ctx: CommandContext, id: string, name: string): Promise<void> {
  const check = await restoreForwarder(containerRoot(ctx), id, selfCommand(ctx));
  if (check.kind === 'lost')
    ctx.stderr.write(`WARNING: the published ports of ${name} are lost: ${check.reason}\n`);
}
