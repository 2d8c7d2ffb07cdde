import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { collectAfterBuild, holdCacheForBuild } from '../../cache/index.ts';
import { TbuildError, UsageError } from '../../errors.ts';
import { createRuncExecutor, type RuncExecutor } from '../../executor/index.ts';
import { exportBuild, type Output } from '../../exporter/index.ts';
import {
  BuildError,
  type ConvertOptions,
  compileDockerignore,
  convert,
  fingerprintContextPath,
  platformArgValues,
  readDockerignore,
  scanContext,
} from '../../frontend/index.ts';
import { hostPlatform, imageUsage, normalizeTag, resolveRoot, StoreError } from '../../image/index.ts';
import type { HeldLock } from '../../locks.ts';
import { createRenderer, type ProgressMode } from '../../progress/index.ts';
import { RegistryError, timeoutsFromEnv } from '../../registry/index.ts';
import {
  type CacheFrom,
  type CacheTo,
  exportLocalCache,
  exportRegistryCache,
  inlineCache,
  inlineCacheField,
  openCacheSources,
  openInlineCache,
  openRegistryCache,
} from '../../remotecache/index.ts';
import {
  checkEntitlements,
  createFsRunner,
  type Entitlement,
  type FsRunner,
  isEntitlement,
  solve,
} from '../../solver/index.ts';
import { openSshAgents, parseSshSpec, type SshSpec } from '../../source/index.ts';
import { pathError, requireWritablePath } from '../../user-paths.ts';
import { parseCacheFrom, parseCacheTo } from '../build-cache-flags.ts';
import { answerCheck, answerFromInstructions, type CallRequest, parseCallFlag } from '../build-call.ts';
import { openChecks, readInstructions, WarningRelay } from '../build-checks.ts';
import { ContextScratch, openBuildInput } from '../build-context.ts';
import { epochTimestamp, sourceDateEpoch, withEnvironmentEpoch } from '../build-epoch.ts';
import { formatBuildFailure } from '../build-errors.ts';
import { writeBuildMetadata } from '../build-metadata.ts';
import { parseOutputs } from '../build-outputs.ts';
import { parseAddHost, parseShmSize, parseUlimit } from '../build-sandbox-flags.ts';
import { parseSecretFlag, readSecrets, type SecretFlag } from '../build-secrets.ts';
import type { Command, CommandContext } from '../command.ts';
import { parseCommandLine } from '../flags.ts';
import { openRoot } from '../open-root.ts';
import { parseDockerfileCached } from '../parse-cache.ts';
import { pullReference, pushReference } from '../registry-actions.ts';

const usage = `
Usage:  tbuild build [OPTIONS] PATH | URL | -

Build an image from a Dockerfile

Options:
      --add-host stringArray      Add a custom host-to-IP mapping for RUN (format: "host:ip";
                                  "host:host-gateway" is the host itself)
      --allow stringArray         Allow extra privileged entitlement (e.g., "network.host",
                                  "security.insecure")
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

interface BuildFlags {
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
  /** `--ssh`: the agents RUN --mount=type=ssh reaches (and git fetches over ssh use, `default`). */
  ssh: SshSpec[];
  /** `--add-host`, `--shm-size`, `--ulimit`. */
  runSandbox: NonNullable<ConvertOptions['runSandbox']>;
  /** `--call` / `--check`: evaluate instead of building. */
  call?: CallRequest;
}

function parseBuildFlags(ctx: CommandContext): BuildFlags | 'help' {
  const options = {
    tag: { type: 'string', short: 't', multiple: true },
    file: { type: 'string', short: 'f' },
    'build-arg': { type: 'string', multiple: true },
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

/** `tbuild build`: Dockerfile + context → image in the store. */
export const buildCommand: Command = {
  summary: 'Build an image from a Dockerfile',
  async run(ctx) {
    const flags = parseBuildFlags(ctx);
    if (flags === 'help') return 0;
    if (flags.iidfile)
      await requireWritablePath(flags.iidfile, 'a file to write the image ID to (--iidfile)');
    if (flags.metadataFile)
      await requireWritablePath(
        flags.metadataFile,
        'a file to write the build metadata to (--metadata-file)',
      );
    const root = resolveRoot(ctx.globals.root);
    const scratch = new ContextScratch(root);
    const agents = await openSshAgents(flags.ssh);
    const sshAuthSock = agents.sockets.get('default');
    const input = await openBuildInput(flags.context, flags.file, {
      stdin: ctx.stdin,
      scratch,
      ...(sshAuthSock === undefined ? {} : { sshAuthSock }),
    }).catch(async (error: unknown) => {
      await agents.close();
      throw error;
    });
    const { dockerfilePath, dockerfileName, text } = input;
    const contextDir = input.context.dir;
    const epoch = sourceDateEpoch(flags.buildArgs);
    const created = epoch === undefined ? new Date().toISOString() : epochTimestamp(epoch);
    const ast = await parseDockerfileCached(root, text, dockerfileName);
    // Build checks (BuildKit's linter) run while the instructions are read and converted; their
    // warnings wait for the progress display, which lists them at the end.
    const warnings = new WarningRelay();
    const checks = openChecks(ast, flags.buildArgs, warnings);
    const source = { file: dockerfileName, text: text.toString('utf8') };
    const write = (out: string) => void ctx.stdout.write(out);
    const instructions = readInstructions(checks, warnings, {
      ...(flags.call ? { call: flags.call } : {}),
      show: () => createRenderer(flags.progress, ctx.stderr as NodeJS.WriteStream),
      source,
      write,
    });
    if (typeof instructions === 'number') return instructions;
    const platform = hostPlatform();
    if (flags.call) {
      const options = {
        ...(flags.target !== undefined ? { target: flags.target } : {}),
        buildArgs: flags.buildArgs,
        platformArgs: platformArgValues(platform),
      };
      const code = answerFromInstructions(flags.call, source, instructions, ast, options, write);
      if (code !== undefined) return code;
    }
    const ignore = await readDockerignore(contextDir, dockerfilePath);

    const store = await openRoot(root, ctx.stderr);
    const controller = new AbortController();
    // 128 + the signal number, as the Docker CLI exits: 130 for Ctrl-C, 143 for SIGTERM.
    const onSignal = (signal: NodeJS.Signals) =>
      controller.abort(
        new TbuildError(`build canceled (${signal})`, { exitCode: signal === 'SIGTERM' ? 143 : 130 }),
      );
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    // --call=check prints its own report and builds nothing: no progress display.
    const renderer = createRenderer(flags.call ? 'quiet' : flags.progress, ctx.stderr as NodeJS.WriteStream);
    warnings.attach(renderer.sink);
    let runner: FsRunner | undefined;
    let cacheHold: HeldLock | undefined;
    let executor: RuncExecutor | undefined;
    try {
      const convertOptions: ConvertOptions = {
        file: dockerfileName,
        escape: ast.escape,
        ...(flags.target !== undefined ? { target: flags.target } : {}),
        buildArgs: flags.buildArgs,
        labels: flags.labels,
        platform,
        context: { dir: contextDir, excludes: [...ignore.patterns] },
        noCacheStages: flags.noCacheFilter,
        runSandbox: flags.runSandbox,
        created,
        checks,
        resolveImage: async (ref, at) => {
          try {
            // A base image missing from the store (or any, with --pull) comes from its registry.
            if (
              flags.pull ||
              !(await store.find(ref).then(
                (found) => found.length > 0,
                () => false,
              ))
            ) {
              await pullReference(
                store,
                ref,
                { root, insecureRegistries: flags.insecureRegistries, quiet: true },
                ctx.stderr,
              ).catch((error: unknown) => {
                if (error instanceof RegistryError)
                  throw new BuildError(`base image "${ref}" could not be pulled: ${error.message}`, at, {
                    hint:
                      error.hint ??
                      'load it with tbuild load -i IMAGE.tar (for busybox: bash fixtures/make-busybox-image.sh busybox.tar)',
                  });
                throw error;
              });
            }
            const image = await store.resolve(ref);
            return {
              ref: image.tags[0] ?? normalizeTag(ref),
              manifest: image.descriptor.digest,
              config: image.config,
            };
          } catch (error) {
            if (!(error instanceof StoreError)) throw error;
            throw new BuildError(`base image "${ref}" was not found in the local store`, at, {
              hint: `load it first: tbuild load -i IMAGE.tar (for busybox: bash fixtures/make-busybox-image.sh busybox.tar)`,
            });
          }
        },
      };
      if (flags.call) {
        // BuildKit's lint subrequest: with no target every stage is dispatched (and checked).
        const allStages = flags.target === undefined;
        const code = await answerCheck(
          flags.call,
          source,
          checks,
          () => convert(instructions, { ...convertOptions, allStages }),
          write,
        );
        renderer.close();
        return code;
      }
      const definition = await convert(instructions, convertOptions);
      checkEntitlements(definition.root, flags.allow, flags.network);
      // runc is checked by the executor before the first RUN it runs: a fully cached build
      // needs none (and skips ~20 ms of `runc --version`).
      executor = createRuncExecutor({ stateDir: join(root, 'runc'), shareNoneNetwork: true });
      const registryFlags = { root, insecureRegistries: flags.insecureRegistries };
      const cacheSources = await openCacheSources(
        flags.cacheFrom,
        store,
        (m) => ctx.stderr.write(m),
        (ref) =>
          openRegistryCache(
            ref,
            store,
            registryFlags,
            (image) => openInlineCache(image, store),
            async (image) => {
              await pullReference(store, image, { ...registryFlags, quiet: true }, ctx.stderr);
            },
          ),
      );
      runner = createFsRunner({
        root,
        store,
        executor,
        walkSource: async (dir, excludes, within) => scanContext(dir, excludes, within),
        fingerprintSource: (dir, excludes, path, settleMs) =>
          fingerprintContextPath(dir, compileDockerignore(excludes), path, settleMs),
        excludeMatcher: (patterns) => {
          if (patterns.length === 0) return () => false;
          const matcher = compileDockerignore(patterns);
          return (path) => matcher.matches(path);
        },
        defaultNetwork: flags.network,
        cacheSources,
        secrets: await readSecrets(flags.secrets),
        sshAgents: agents.sockets,
        ...(epoch !== undefined && flags.rewriteTimestamp ? { epoch } : {}),
        httpTimeouts: timeoutsFromEnv(process.env, 'TBUILD_HTTP_TIMEOUT'),
      });
      // Fingerprinting the context (find(1) processes) overlaps taking the cache lock.
      runner.prefetch(definition.root);
      // Held while this build may read or write the cache: no prune or GC deletes from it
      // meanwhile (other builds share it).
      const cacheRunner = runner;
      cacheHold = await holdCacheForBuild(root, () => {
        ctx.stderr.write('waiting for a running prune on this root to finish...\n');
        // The files may change while we wait: the keys must see them as they are after it.
        cacheRunner.dropPrefetched();
      });
      const result = await solve(definition.root, runner, {
        noCache: flags.noCache,
        concurrency: 8,
        signal: controller.signal,
        progress: renderer.sink,
      });
      const extra = flags.cacheTo.some((t) => t.type === 'inline')
        ? { [inlineCacheField]: await inlineCache(runner, result) }
        : {};
      const exported = await exportBuild({
        root,
        store,
        outputs: flags.outputs,
        definition,
        result,
        extra,
        ...(epoch !== undefined ? { epoch: created, epochSeconds: epoch } : {}),
        platform: `${platform.os}/${platform.architecture}`,
        stdout: ctx.stdout,
      });
      const image = exported.image;
      for (const to of flags.cacheTo) {
        if (to.type === 'local') await exportLocalCache(to, runner, result, store);
        if (to.type === 'registry') await exportRegistryCache(to, runner, result, store, registryFlags);
      }
      const grew = runner.ran > 0 || store.blobsAdded > 0;
      await runner.close();
      runner = undefined;
      await cacheHold.release();
      // The automatic GC measures the whole cache: only worth it when this build added to it
      // (a fully cached rebuild adds nothing: no step ran, no blob, no snapshot).
      if (grew)
        await collectAfterBuild(root, {
          usage: () => imageUsage(store),
          collectGarbage: () => store.collectGarbage(),
        });
      renderer.close();
      // An output on standard output (dest=-) is the whole of it: no image ID after the archive.
      const stdoutUsed = flags.outputs.some(
        (o) => (o.type === 'docker' || o.type === 'oci' || o.type === 'tar') && o.target.kind === 'stdout',
      );
      if (image && flags.quiet && !stdoutUsed) ctx.stdout.write(`${image.id}\n`);
      else if (image && !flags.quiet && flags.outputs.some((o) => o.type === 'image')) {
        ctx.stderr.write(`writing image ${image.id}\n`);
        for (const name of exported.stored) ctx.stderr.write(`naming to ${name}\n`);
      }
      if (flags.iidfile && image) {
        await writeFile(flags.iidfile, image.id).catch((error: unknown) => {
          throw pathError(error, flags.iidfile as string, 'a file to write the image ID to (--iidfile)');
        });
      }
      const registry = { root, insecureRegistries: flags.insecureRegistries, quiet: flags.quiet };
      for (const name of exported.push) await pushReference(store, name, registry, ctx.stderr);
      if (flags.metadataFile) {
        await writeBuildMetadata(flags.metadataFile, {
          response: exported.response,
          warnings: warnings.all,
          source,
        });
      }
      return 0;
    } catch (error) {
      renderer.close();
      ctx.stderr.write(formatBuildFailure(error, text.toString('utf8')));
      throw error;
    } finally {
      await runner?.close().catch(() => {});
      await cacheHold?.release();
      await executor?.close();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await store.close();
      await scratch.release();
      await agents.close();
    }
  },
};
