import { removeContainer } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot, forEachContainer } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild rm [OPTIONS] CONTAINER [CONTAINER...]

Remove one or more containers

Options:
  -f, --force     Force the removal of a running container (uses SIGKILL)
  -v, --volumes   Remove anonymous volumes associated with the container
`;

/** `tbuild rm` (docker rm). */
export const rmCommand: Command = {
  summary: 'Remove one or more containers',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'rm',
      usage,
      options: { force: { type: 'boolean', short: 'f' }, volumes: { type: 'boolean', short: 'v' } },
      args: { min: 1 },
    });
    if (line === undefined) return 0;
    const { values, positionals } = line;
    const root = containerRoot(ctx);
    const force = values.force === true;
    // docker-cli container/rm.go: with -f a missing container is reported, not a failure.
    return forEachContainer(
      ctx,
      positionals,
      (ref) => removeContainer(root, ref, force, values.volumes === true),
      (error) => force && /^No such container: /.test(error.message),
    );
  },
};
