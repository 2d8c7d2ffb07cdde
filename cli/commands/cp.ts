import { resolve } from 'node:path';
import { TbuildError } from '../../errors.ts';
import { copyFromContainer, copyToContainer } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild cp CONTAINER:SRC_PATH DEST_PATH
        tbuild cp SRC_PATH CONTAINER:DEST_PATH

Copy files/folders between a container and the local filesystem (modes, owners, times kept;
paths in the container never lead out of its root)
`;

/** `CONTAINER:PATH` (docker-cli cp.go splitCpArg: a path starting with / or . is local). */
function splitArg(arg: string): { container?: string; path: string } {
  if (arg.startsWith('/') || arg.startsWith('.')) return { path: arg };
  const colon = arg.indexOf(':');
  if (colon <= 0) return { path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) || '/' };
}

/** `tbuild cp` (docker cp), both directions. */
export const cpCommand: Command = {
  summary: 'Copy files/folders between a container and the local filesystem',
  async run(ctx) {
    const line = parseCommandLine(ctx, { name: 'cp', usage, options: {}, args: { exactly: 2 } });
    if (line === undefined) return 0;
    const [src, dest] = line.positionals.map(splitArg) as [
      ReturnType<typeof splitArg>,
      ReturnType<typeof splitArg>,
    ];
    const root = containerRoot(ctx);
    if (src.container !== undefined && dest.container === undefined) {
      await copyFromContainer(root, src.container, src.path, resolve(dest.path));
      return 0;
    }
    if (src.container === undefined && dest.container !== undefined) {
      await copyToContainer(root, dest.container, resolve(src.path), dest.path);
      return 0;
    }
    // docker-cli cp.go: plain errors (exit 1), not usage errors.
    throw new TbuildError(
      src.container === undefined
        ? 'must specify at least one container source'
        : 'copying between containers is not supported',
      { exitCode: 1 },
    );
  },
};
