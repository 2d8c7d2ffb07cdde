import { resolveRoot } from '../../image/index.ts';
import {
  type AttachedRun,
  createContainer,
  removeContainer,
  startAttached,
  startContainer,
} from '../../runtime/index.ts';
import { attachOnTerminal, checkTty } from '../attach-terminal.ts';
import type { Command, CommandContext } from '../command.ts';
import { type ContainerFlagValues, containerOptions, toCreateRequest } from '../container-flags.ts';
import { selfCommand } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';
import { sweepRoot } from '../open-root.ts';

const usage = `
Usage:  tbuild run [OPTIONS] IMAGE [COMMAND] [ARG...]

Run a command in a new container

With -d the container runs in the background and its id is printed; without it tbuild attaches
to it (stdin too with -i) and exits with its exit code, or 0 when the detach keys (Ctrl-P Ctrl-Q)
leave it running. The container is kept (see tbuild ps -a, logs, start, rm) unless --rm. 125
means tbuild could not run the command, 126 it cannot be invoked, 127 it was not found.

Options:
  -d, --detach              Run container in background and print container ID
      --detach-keys string  Override the key sequence for detaching a container
      --entrypoint string   Overwrite the default ENTRYPOINT of the image (clears its CMD)
  -e, --env list            Set environment variables (K=V, or K to pass the host's value)
      --env-file list       Read in a file of environment variables
  -h, --hostname string     Container host name
  -i, --interactive         Keep STDIN open even if not attached
  -l, --label list          Set meta data on a container
      --name string         Assign a name to the container
      --add-host list       Add a custom host-to-IP mapping (host:ip; ip may be host-gateway)
      --ip string           IPv4 address on a user-defined network (e.g., 172.30.100.104)
      --network string      Connect a container to a network: bridge, host, none, container:NAME or a
                            network's name (default "bridge")
      --network-alias list  Add network-scoped alias for the container
      --restart string      Restart policy to apply when a container exits (default "no")
      --rm                  Automatically remove the container when it exits
      --security-opt list   Security options: seccomp=unconfined, or seccomp=PROFILE.json (Docker's
                            profile format; Docker's default profile applies otherwise)
      --sig-proxy           Proxy received signals to the process (default true)
      --stop-signal string  Signal to stop the container (default "SIGTERM")
      --stop-timeout int    Timeout (in seconds) to stop a container
  -t, --tty                 Allocate a pseudo-TTY
  -u, --user string         Username or UID (format: <name|uid>[:<group|gid>])
      --mount mount         Attach a filesystem mount: type=volume|bind|tmpfs,source=,target=,readonly,
                            volume-nocopy,volume-label=K=V,tmpfs-size=
  -v, --volume list         Bind mount a volume or a host path: NAME:CONTAINER[:ro], HOST:CONTAINER[:ro],
                            or CONTAINER (a new anonymous volume); a new or empty volume gets the image's
                            content at CONTAINER
      --volumes-from list   Mount volumes from the specified container(s) (CONTAINER[:ro|rw])
  -w, --workdir string      Working directory inside the container
`;

/** `tbuild run`: a container from a stored image, kept and detached (-d) or in the foreground. */
export const runCommand: Command = {
  summary: 'Run a command in a new container',
  async run(ctx) {
    // Docker stops reading flags at the image name: everything after it is the command, even
    // words that look like flags (`tbuild run img ls -l`).
    const line = parseCommandLine(ctx, {
      name: 'run',
      usage,
      options: containerOptions,
      args: { min: 1 },
      stopAtPositional: true,
    });
    if (line === undefined) return 0;
    const { values } = line;
    const [image, ...args] = line.positionals as [string, ...string[]];
    const root = resolveRoot(ctx.globals.root);
    await sweepRoot(root, ctx.stderr);
    if (values.detach) return runDetached(ctx, root, values, image, args);
    return runForeground(ctx, root, values, image, args);
  },
};

/** `run -d`: create, start, print the id (Docker's `docker run -d`). */
async function runDetached(
  ctx: CommandContext,
  root: string,
  values: ContainerFlagValues,
  image: string,
  args: string[],
): Promise<number> {
  const record = await createContainer(await toCreateRequest('run', root, values, image, args));
  try {
    await startContainer(root, record.Id, selfCommand(ctx));
  } catch (error) {
    // Docker removes an --rm container that failed to start (cli/command/container/run.go).
    if (values.rm) await removeContainer(root, record.Id, true, true).catch(() => undefined);
    throw error;
  }
  ctx.stdout.write(`${record.Id}\n`);
  return 0;
}

/**
 * `run` without -d, as `docker run`: the container is created, attached to and started; tbuild
 * exits with its exit code once it exits (0 after the detach keys, which leave it running), and
 * removes it with --rm. It is kept otherwise: `ps -a` lists it exited.
 */
async function runForeground(
  ctx: CommandContext,
  root: string,
  values: ContainerFlagValues,
  image: string,
  args: string[],
): Promise<number> {
  const tty = values.tty === true;
  const interactive = values.interactive === true;
  checkTty(tty, interactive);
  const record = await createContainer(await toCreateRequest('run', root, values, image, args));
  let result: Awaited<ReturnType<typeof attachOnTerminal<AttachedRun>>>;
  try {
    result = await attachOnTerminal(
      ctx,
      {
        root,
        id: record.Id,
        tty,
        stdin: interactive,
        sigProxy: values['sig-proxy'] !== false,
        detachKeys: values['detach-keys'],
      },
      (request) => startAttached(root, record.Id, selfCommand(ctx), request),
    );
  } catch (error) {
    // Docker removes an --rm container that failed to start (cli/command/container/run.go).
    if (values.rm) await removeContainer(root, record.Id, true, true).catch(() => undefined);
    throw error;
  }
  const code = await result.opened.finish(result.end);
  return result.signalled ?? code ?? 0;
}
