// `tbuild build`'s flags: the usage text, and the command line turned into a plain BuildFlags object;
// commands/build.ts composes the stages from it.
import { TbuildError, UsageError } from '../errors.ts';
import type { Output } from '../exporter/index.ts';
import { type ConvertOptions, namedContextKey } from '../frontend/index.ts';
import { hostPlatform, normalizeTag } from '../image/index.ts';
import type { ProgressMode } from '../progress/index.ts';
import type { CacheFrom, CacheTo } from '../remotecache/index.ts';
import { type Entitlement, isEntitlement } from '../solver/index.ts';
import { parseSshSpec, type SshSpec } from '../source/index.ts';
import { parseCacheFrom, parseCacheTo } from './build-cache-flags.ts';
import { type CallRequest, parseCallFlag } from './build-call.ts';
import { withEnvironmentEpoch } from './build-epoch.ts';
import { parseOutputs } from './build-outputs.ts';
import { parseAddHost, parseShmSize, parseUlimit } from './build-sandbox-flags.ts';
import { parseSecretFlag, type SecretFlag } from './build-secrets.ts';
import type { CommandContext } from './command.ts';
import { parseCommandLine } from './flags.ts';

const usage = `
Usage:  tbuild build [OPTIONS] PATH | URL | -

Build an image from a Dockerfile

Options:
      --add-host stringArray      Add a custom host-to-IP mapping for RUN (format: "host:ip";
                                  "host:host-gateway" is the host itself)
      --allow stringArray         Allow extra privileged entitlement (e.g., "network.host",
                                  "security.insecure")
      --build-context stringArray Additional build contexts (e.g., name=path; path is a local
                                  directory, a git or https tarball URL, or
                                  "docker-image://image[@digest]")
      --build-arg stringArray     Set build-time variables (recorded in the image history, as by
                                  docker build: pass secrets with --secret)
      --cache-from stringArray    External cache sources (e.g. "type=local,src=path/to/dir", or an image
                                  with an inline cache, or "type=registry,ref=NAME[:TAG]")
      --cache-to stringArray      Cache export destinations (e.g. "type=local,dest=path/to/dir[,mode=max]",
                                  "type=inline", "type=registry,ref=NAME[:TAG][,mode=max]")
      --call string               Set method for evaluating build ("check", "outline", "targets")
                                  (default "build")
      --check                     Shorthand for "--call=check"
  -f, --file string               Name of the Dockerfile (default: "PATH/Dockerfile"; "-" reads stdin)
      --iidfile string            Write the image ID to the file
      --insecure-registry stringArray  Allow plain http for this registry host (pull and push)
      --label stringArray         Set metadata for an image
      --load                      Shorthand for "--output=type=docker"
      --metadata-file string      Write build result metadata to a file (the build's warnings too
                                  with BUILDX_METADATA_WARNINGS=1)
      --network string            Set the networking mode for the RUN instructions during build
                                  (default, none, host) (default "default"; none wins over
                                  RUN --network=host)
      --no-cache                  Do not use cache when building the image
      --no-cache-filter strings   Do not cache specified stages
  -o, --output stringArray        Output destination (format: "type=local,dest=path"; types: image,
                                  registry, docker, oci, local, tar; "-o DIR" for type=local,dest=DIR)
      --platform string           Set target platform for build (only the host's: linux/amd64)
      --progress string           Set type of progress output (auto, plain, tty, rawjson) (default "auto")
      --pull                      Always attempt to pull a newer version of the base images
      --push                      Shorthand for "--output=type=registry" (needs -t)
  -q, --quiet                     Suppress the build output and print image ID on success
      --shm-size bytes            Shared memory size for RUN (/dev/shm; default 64m)
      --ssh stringArray           SSH agent socket or keys to expose to RUN --mount=type=ssh (format:
                                  "default|<id>[=<socket>|<key>[,<key>]]")
      --secret stringArray        Secret to expose to RUN --mount=type=secret (format:
                                  "id=mysecret[,src=/local/secret]" or "id=mysecret,env=VAR")
  -t, --tag stringArray           Name and optionally a tag (format: "name:tag")
      --target string             Set the target build stage to build
      --ulimit ulimit             Ulimit options for RUN (format: "nofile=1024[:2048]")

The "default" RUN network is the host's (its loopback services included) until containers have networks of their own.
`;

export interface BuildFlags {
  tags: string[];
  /** `--allow`, plus `network.host` when `--network host` was given (buildx grants it then). */
  allow: Set<Entitlement>;
  file?: string;
  buildArgs: Record<string, string>;
  target?: string;
  secrets: SecretFlag[];
  noCache: boolean;
  noCacheFilter: string[];
  cacheFrom: CacheFrom[];
  cacheTo: CacheTo[];
  progress: ProgressMode;
  network: 'host' | 'none';
  labels: Record<string, string>;
  quiet: boolean;
  iidfile?: string;
  metadataFile?: string;
  pull: boolean;
  /** `-o`, `--push`, `--load` (default: the image into the store). */
  outputs: Output[];
  /** `-o type=image,rewrite-timestamp=…`: clamp the layers to SOURCE_DATE_EPOCH (default true). */
  rewriteTimestamp: boolean;
  insecureRegistries: string[];
  context: string;
  /** `--build-context NAME=VALUE`, by the name's key (frontend namedContextKey); the last of a name wins. */
  buildContexts: Map<string, string>;
  /** `--ssh`: the agents RUN --mount=type=ssh reaches (and git fetches over ssh use, `default`). */
  ssh: SshSpec[];
  /** `--add-host`, `--shm-size`, `--ulimit`. */
  runSandbox: NonNullable<ConvertOptions['runSandbox']>;
  /** `--call` / `--check`: evaluate instead of building. */
  call?: CallRequest;
}

export function parseBuildFlags(ctx: CommandContext): BuildFlags | 'help' {
  const options = {
    tag: { type: 'string', short: 't', multiple: true },
    file: { type: 'string', short: 'f' },
    'build-arg': { type: 'string', multiple: true },
    'build-context': { type: 'string', multiple: true },
    call: { type: 'string' },
    check: { type: 'boolean' },
    allow: { type: 'string', multiple: true },
    target: { type: 'string' },
    secret: { type: 'string', multiple: true },
    'no-cache': { type: 'boolean' },
    'no-cache-filter': { type: 'string', multiple: true },
    'cache-from': { type: 'string', multiple: true },
    'cache-to': { type: 'string', multiple: true },
    progress: { type: 'string' },
    network: { type: 'string' },
    label: { type: 'string', multiple: true },
    quiet: { type: 'boolean', short: 'q' },
    iidfile: { type: 'string' },
    'metadata-file': { type: 'string' },
    platform: { type: 'string' },
    pull: { type: 'boolean' },
    push: { type: 'boolean' },
    load: { type: 'boolean' },
    output: { type: 'string', short: 'o', multiple: true },
    'insecure-registry': { type: 'string', multiple: true },
    'add-host': { type: 'string', multiple: true },
    'shm-size': { type: 'string' },
    ulimit: { type: 'string', multiple: true },
    ssh: { type: 'string', multiple: true },
  } as const;
  const parsed = parseCommandLine(ctx, { name: 'build', usage, options, args: { exactly: 1 } });
  if (parsed === undefined) return 'help';
  const { values, positionals } = parsed;
  const buildArgs: Record<string, string> = {};
  for (const arg of values['build-arg'] ?? []) {
    const eq = arg.indexOf('=');
    if (eq === 0) throw new UsageError(`invalid build-arg "${arg}": the name is empty`);
    // `--build-arg NAME` takes the value from the environment, as docker build does.
    if (eq < 0) {
      const fromEnv = process.env[arg];
      if (fromEnv !== undefined) buildArgs[arg] = fromEnv;
    } else buildArgs[arg.slice(0, eq)] = arg.slice(eq + 1);
  }
  Object.assign(buildArgs, withEnvironmentEpoch(buildArgs));
  const labels: Record<string, string> = {};
  for (const label of values.label ?? []) {
    const eq = label.indexOf('=');
    labels[eq < 0 ? label : label.slice(0, eq)] = eq < 0 ? '' : label.slice(eq + 1);
  }
  const progress = (values.progress ?? 'auto') as ProgressMode;
  if (!['auto', 'plain', 'tty', 'rawjson'].includes(progress)) {
    throw new UsageError(`invalid progress mode "${progress}"`, { hint: 'use auto, plain, tty or rawjson' });
  }
  const network = values.network ?? 'default';
  if (!['default', 'none', 'host'].includes(network)) {
    throw new UsageError(`network mode "${network}" not supported by tbuild`, {
      hint: 'use default, none or host',
    });
  }
  const platform = values.platform;
  const host = hostPlatform();
  if (platform !== undefined && platform !== `${host.os}/${host.architecture}`) {
    throw new UsageError(
      `platform "${platform}" is not supported: tbuild builds for ${host.os}/${host.architecture}`,
    );
  }
  for (const tag of values.tag ?? []) {
    try {
      normalizeTag(tag);
    } catch (error) {
      throw new UsageError(`invalid argument "${tag}" for "-t, --tag" flag: ${(error as Error).message}`);
    }
  }
  const allow = new Set<Entitlement>();
  for (const name of (values.allow ?? []).flatMap((s) => s.split(','))) {
    if (!isEntitlement(name)) {
      throw new UsageError(`unknown entitlement ${name}`, { hint: 'use network.host or security.insecure' });
    }
    allow.add(name);
  }
  if (network === 'host') allow.add('network.host');
  if (values.push && (values.tag ?? []).length === 0 && (values.output ?? []).length === 0) {
    throw new UsageError('--push needs a name to push to: give one with -t NAME[:TAG]');
  }
  const { outputs, rewriteTimestamp } = parseOutputs({
    outputs: values.output ?? [],
    tags: values.tag ?? [],
    push: values.push ?? false,
    load: values.load ?? false,
    stdoutIsTTY: (ctx.stdout as { isTTY?: boolean }).isTTY === true,
  });
  const flags: BuildFlags = {
    tags: values.tag ?? [],
    allow,
    buildArgs,
    noCache: values['no-cache'] ?? false,
    noCacheFilter: (values['no-cache-filter'] ?? []).flatMap((s) => s.split(',')),
    cacheFrom: (values['cache-from'] ?? []).map(parseCacheFrom),
    cacheTo: (values['cache-to'] ?? []).map(parseCacheTo),
    progress: values.quiet ? 'quiet' : progress,
    network: network === 'none' ? 'none' : 'host',
    labels,
    quiet: values.quiet ?? false,
    pull: values.pull ?? false,
    outputs,
    // tbuild clamps by default (issue 17); BuildKit's image exporter only with rewrite-timestamp=true.
    rewriteTimestamp: rewriteTimestamp ?? true,
    insecureRegistries: values['insecure-registry'] ?? [],
    context: positionals[0] as string,
    secrets: (values.secret ?? []).map(parseSecretFlag),
    ssh: (values.ssh ?? []).map(parseSshSpec),
    buildContexts: parseBuildContexts(values['build-context'] ?? []),
    runSandbox: {
      extraHosts: (values['add-host'] ?? []).flatMap(parseAddHost),
      ulimits: (values.ulimit ?? []).map(parseUlimit),
      ...(values['shm-size'] === undefined ? {} : { shmSize: parseShmSize(values['shm-size']) }),
    },
  };
  if (values.file !== undefined) flags.file = values.file;
  if (values.target !== undefined) flags.target = values.target;
  if (values.iidfile !== undefined) flags.iidfile = values.iidfile;
  if (values['metadata-file'] !== undefined) flags.metadataFile = values['metadata-file'];
  const call = parseCallFlag(values.call, values.check ?? false);
  if (call) flags.call = call;
  return flags;
}

/**
 * `--build-context NAME=VALUE`s as buildx's ParseContextNames reads them: split at the first `=`,
 * the name taken as an image reference in its familiar form (`docker.io/library/alpine:latest`
 * is `alpine`). Its errors are buildx's (exit code 1, as buildx fails).
 */
function parseBuildContexts(values: string[]): Map<string, string> {
  const contexts = new Map<string, string>();
  for (const value of values) {
    if (value === '') continue;
    const eq = value.indexOf('=');
    if (eq < 0) throw new TbuildError(`invalid context value: ${value}, expected key=value`);
    const name = value.slice(0, eq);
    try {
      contexts.set(namedContextKey(name), value.slice(eq + 1));
    } catch (error) {
      throw new TbuildError(`invalid context name ${name}: ${(error as Error).message}`);
    }
  }
  return contexts;
}
