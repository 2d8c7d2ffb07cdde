import { NetworkError, networkDocument } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';
import { inspectEach } from '../inspect-output.ts';

const usage = `
Usage:  tbuild network inspect [OPTIONS] NETWORK [NETWORK...]

Display detailed information on one or more networks

Options:
  -f, --format string   Format the output using a Go template
`;

/** `tbuild network inspect` (docker network inspect): Docker's NetworkResource, with its running containers. */
export const networkInspectCommand: Command = {
  summary: 'Display detailed information on one or more networks',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'network inspect',
      usage,
      options: { format: { type: 'string', short: 'f' } },
      args: { min: 1 },
    });
    if (line === undefined) return 0;
    return inspectEach(
      ctx,
      line.positionals,
      line.values.format,
      'network',
      (ref) => networkDocument(containerRoot(ctx), ref),
      (error) => error instanceof NetworkError,
    );
  },
};
