import { TbuildError, UsageError } from '../../errors.ts';
import { createContainer, runContainer, startContainer } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { parseContainerFlags, splitAtImage, toCreateRequest } from '../container-flags.ts';
import { containerRoot, selfCommand } from '../containers.ts';

const usage = `
Usage:  tbuild run [OPTIONS] IMAGE [COMMAND] [ARG...]

Run a command in a new container

With -d the container is kept (see tbuild ps, logs, stop, rm) and its id printed. Without it the
command runs in the foreground with its output piped, and its writable layer is removed when it
exits. The exit code is the command's; 125 means tbuild could not run it, 126 the command cannot
be invoked, 127 it was not found.

Options:
  -d, --detach               Run container in background and print container ID
      --entrypoint string    Overwrite the default ENTRYPOINT of the image (clears its CMD)
  -e, --env list             Set environment variables (K=V, or K to pass the host's value)
  -h, --hostname string      Container host name
  -l, --label list           Set meta data on a container
      --name string          Assign a name to the container
      --network string       Connect a container to a network: host or none (default "host")
      --restart string       Restart policy to apply when a container exits (default "no")
      --rm                   Automatically remove the container when it exits
      --stop-signal string   Signal to stop a container (default "SIGTERM")
      --stop-timeout int     Timeout (in seconds) to stop a container
  -u, --user string          Username or UID (format: <name|uid>[:<group|gid>])
  -v, --volume list          Bind mount a host path: HOST:CONTAINER[:ro]
  -w, --workdir string       Working directory inside the container
`;

/** `tbuild run`: a container from a stored image, in the foreground or kept in the background (-d). */
export const runCommand: Command = {
  summary: 'Run a command in a new container',
  async run(ctx) {
    const { flags, rest } = splitAtImage(ctx.argv);
    const values = parseContainerFlags('run', flags);
    if (values.help) {
      ctx.stdout.write(usage);
      return 0;
    }
    const [image, ...args] = rest;
    if (image === undefined) {
      throw new UsageError('"tbuild run" requires at least 1 argument.', {
        hint: "See 'tbuild run --help'.\n\nUsage:  tbuild run [OPTIONS] IMAGE [COMMAND] [ARG...]",
      });
    }
    const root = containerRoot(ctx);
    const request = toCreateRequest(root, values, image, args);
    if (values.detach) {
      const record = await createContainer(request);
      try {
        await startContainer(root, record.Id, selfCommand(ctx));
      } catch (error) {
        if (request.autoRemove) {
          const { removeContainer } = await import('../../runtime/index.ts');
          await removeContainer(root, record.Id, true).catch(() => undefined);
        }
        throw error;
      }
      ctx.stdout.write(`${record.Id}\n`);
      return 0;
    }
    if (request.tty || request.openStdin) {
      throw new UsageError('tbuild run -i/-t needs -d for now', {
        hint: 'run it detached (-d) and use tbuild logs / exec',
      });
    }

    const controller = new AbortController();
    const onSignal = (signal: NodeJS.Signals) => {
      const code = signal === 'SIGINT' ? 130 : 143;
      controller.abort(new TbuildError(`container killed (${signal})`, { exitCode: code }));
    };
    // `on`, not `once`: a second Ctrl-C during cleanup must not kill node with mounts left behind.
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const { exitCode } = await runContainer({
        ...request,
        io: {
          stdout: (chunk) => ctx.stdout.write(chunk),
          stderr: (chunk) => ctx.stderr.write(chunk),
        },
        signal: controller.signal,
      });
      return exitCode;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
