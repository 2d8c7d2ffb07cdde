import { TbuildError } from '../../errors.ts';
import { execInContainer } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot } from '../containers.ts';
import { readEnvFiles } from '../env-file.ts';
import { parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild exec [OPTIONS] CONTAINER COMMAND [ARG...]

Execute a command in a running container

Options:
  -d, --detach           Detached mode: run command in the background
  -e, --env list         Set environment variables
      --env-file list    Read in a file of environment variables
  -i, --interactive      Keep STDIN open even if not attached
  -t, --tty              Allocate a pseudo-TTY
  -u, --user string      Username or UID (format: <name|uid>[:<group|gid>])
  -w, --workdir string   Working directory inside the container
`;

/** `tbuild exec` (docker exec): the exit code is the process's (126 when it cannot start). */
export const execCommand: Command = {
  summary: 'Execute a command in a running container',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'exec',
      usage,
      options: {
        detach: { type: 'boolean', short: 'd' },
        env: { type: 'string', short: 'e', multiple: true },
        'env-file': { type: 'string', multiple: true },
        interactive: { type: 'boolean', short: 'i' },
        tty: { type: 'boolean', short: 't' },
        user: { type: 'string', short: 'u' },
        workdir: { type: 'string', short: 'w' },
      },
      args: { min: 2 },
      stopAtPositional: true,
    });
    if (line === undefined) return 0;
    const { values } = line;
    const [ref, ...args] = line.positionals as [string, ...string[]];
    const tty = values.tty === true;
    if (tty && values.detach !== true && process.stdin.isTTY !== true) {
      // Docker's CLI refuses a TTY on a redirected stdin (cli/command/container/exec.go).
      throw new TbuildError('the input device is not a TTY', { exitCode: 1 });
    }
    return execInContainer(containerRoot(ctx), ref, {
      args,
      env: [...(await readEnvFiles(values['env-file'] ?? [])), ...(values.env ?? [])],
      ...(values.workdir !== undefined ? { workdir: values.workdir } : {}),
      ...(values.user !== undefined ? { user: values.user } : {}),
      tty,
      detach: values.detach === true,
      io: {
        stdout: (chunk) => ctx.stdout.write(chunk),
        stderr: (chunk) => ctx.stderr.write(chunk),
        ...(values.interactive ? { stdin: process.stdin } : {}),
        ...(tty ? { inheritStdio: true } : {}),
      },
    });
  },
};
