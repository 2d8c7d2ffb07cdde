import { readFile } from 'node:fs/promises';
import { TbuildError, UsageError } from '../../errors.ts';
import { ExecError, parseSeccompProfile, type SeccompProfile } from '../../executor/index.ts';
import { resolveRoot } from '../../image/index.ts';
import { parseVolume, runContainer } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { parseCommandLine } from '../flags.ts';
import { sweepRoot } from '../open-root.ts';

const usage = `
Usage:  tbuild run [OPTIONS] IMAGE [COMMAND] [ARG...]

Run a command in a new container, in the foreground

The container's writable layer is a temporary overlay upper that is removed when the command
exits: tbuild does not keep containers yet, so --rm is the only behaviour (the flag is accepted
for Docker compatibility). The exit code is the command's; 125 means tbuild could not run it,
126 the command cannot be invoked, 127 it was not found. Output is piped (no TTY, no stdin).

Options:
      --entrypoint string   Overwrite the default ENTRYPOINT of the image (clears its CMD)
  -e, --env list            Set environment variables (K=V, or K to pass the host's value)
      --name string         Assign a name to the container (unique among running containers)
      --network string      Connect a container to a network: host or none (default "host")
      --rm                  Automatically remove the container when it exits (always done)
      --security-opt list   Security options: seccomp=unconfined, or seccomp=PROFILE.json (Docker's
                            profile format; Docker's default profile applies otherwise)
  -u, --user string         Username or UID (format: <name|uid>[:<group|gid>])
  -v, --volume list         Bind mount a host path: HOST:CONTAINER[:ro]
  -w, --workdir string      Working directory inside the container
`;

const options = {
  rm: { type: 'boolean' },
  env: { type: 'string', short: 'e', multiple: true },
  workdir: { type: 'string', short: 'w' },
  user: { type: 'string', short: 'u' },
  entrypoint: { type: 'string' },
  volume: { type: 'string', short: 'v', multiple: true },
  network: { type: 'string' },
  'security-opt': { type: 'string', multiple: true },
  name: { type: 'string' },
} as const;

/** `tbuild run`: a container from a stored image, in the foreground. */
export const runCommand: Command = {
  summary: 'Run a command in a new container',
  async run(ctx) {
    // Docker stops reading flags at the image name: everything after it is the command, even
    // words that look like flags (`tbuild run img ls -l`).
    const line = parseCommandLine(ctx, {
      name: 'run',
      usage,
      options,
      args: { min: 1 },
      stopAtPositional: true,
    });
    if (line === undefined) return 0;
    const { values } = line;
    const [image, ...args] = line.positionals as [string, ...string[]];
    const network = values.network ?? 'host';
    if (network !== 'host' && network !== 'none') {
      throw new UsageError(`network mode "${network}" not supported by tbuild`, { hint: 'use host or none' });
    }
    const mounts = (values.volume ?? []).map((v) => parseVolume(v, process.cwd()));
    const seccomp = await seccompOption(values['security-opt'] ?? []);

    await sweepRoot(resolveRoot(ctx.globals.root), ctx.stderr);
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
        root: resolveRoot(ctx.globals.root),
        image,
        args,
        env: values.env ?? [],
        ...(values.entrypoint !== undefined ? { entrypoint: values.entrypoint } : {}),
        ...(values.workdir !== undefined ? { workdir: values.workdir } : {}),
        ...(values.user !== undefined ? { user: values.user } : {}),
        ...(values.name !== undefined ? { name: values.name } : {}),
        mounts,
        network,
        ...(seccomp === undefined ? {} : { seccomp }),
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

/**
 * `--security-opt`: only `seccomp=` is supported. Like the docker CLI, the profile file is read
 * here and handed on as a profile (docker cli/command/container/opts.go parseSecurityOpts);
 * `seccomp:VALUE` (the old separator) is accepted as Docker still does.
 */
async function seccompOption(options: string[]): Promise<SeccompProfile | 'unconfined' | undefined> {
  let seccomp: SeccompProfile | 'unconfined' | undefined;
  for (const option of options) {
    const split = option.includes('=') ? option.indexOf('=') : option.indexOf(':');
    const key = split < 0 ? option : option.slice(0, split);
    const value = split < 0 ? '' : option.slice(split + 1);
    if (key !== 'seccomp') {
      throw new UsageError(`invalid --security-opt: ${JSON.stringify(option)}`, {
        hint: 'tbuild supports seccomp=unconfined and seccomp=PROFILE.json',
      });
    }
    if (value === 'unconfined') {
      seccomp = 'unconfined';
      continue;
    }
    if (value === '') throw new UsageError(`invalid --security-opt: ${JSON.stringify(option)}`);
    const text = await readFile(value, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`opening seccomp profile (${value}) failed: ${error.message}`);
    });
    try {
      seccomp = parseSeccompProfile(text);
    } catch (error) {
      if (error instanceof ExecError) throw new UsageError(error.message);
      throw error;
    }
  }
  return seccomp;
}
