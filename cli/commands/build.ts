import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { collectAfterBuild, holdCacheForBuild } from '../../cache/index.ts';
import { TbuildError } from '../../errors.ts';
import { createRuncExecutor, type RuncExecutor } from '../../executor/index.ts';
import { exportBuild } from '../../exporter/index.ts';
import {
  BuildError,
  type ConvertOptions,
  compileDockerignore,
  convert,
  epochTimestamp,
  fingerprintContextPath,
  platformArgValues,
  readDockerignore,
  scanContext,
  sourceDateEpoch,
} from '../../frontend/index.ts';
import { hostPlatform, imageUsage, normalizeTag, resolveRoot, StoreError } from '../../image/index.ts';
import type { HeldLock } from '../../locks.ts';
import { createRenderer } from '../../progress/index.ts';
import { RegistryError, timeoutsFromEnv } from '../../registry/index.ts';
import {
  exportLocalCache,
  exportRegistryCache,
  inlineCache,
  inlineCacheField,
  openCacheSources,
  openInlineCache,
  openRegistryCache,
} from '../../remotecache/index.ts';
import { checkEntitlements, createFsRunner, type FsRunner, solve } from '../../solver/index.ts';
import { checkoutGit, openSshAgents, resolveGitCommit } from '../../source/index.ts';
import { pathError, requireWritablePath } from '../../user-paths.ts';
import { answerCheck, answerFromInstructions } from '../build-call.ts';
import { openChecks, readInstructions, WarningRelay } from '../build-checks.ts';
import { ContextScratch, openBuildInput, openNamedContexts } from '../build-context.ts';
import { formatBuildFailure } from '../build-errors.ts';
import { parseBuildFlags } from '../build-flags.ts';
import { writeBuildMetadata } from '../build-metadata.ts';
import { readSecrets } from '../build-secrets.ts';
import type { Command } from '../command.ts';
import { openRoot } from '../open-root.ts';
import { parseDockerfileCached } from '../parse-cache.ts';
import { pullReference, pushReference } from '../registry-actions.ts';
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
    const gitAgent = sshAuthSock === undefined ? {} : { sshAuthSock };
    const fetchOptions = { scratch, gitCache: join(root, 'cache', 'git-checkouts'), ...gitAgent };
    const [input, namedContexts] = await Promise.all([
      openBuildInput(flags.context, flags.file, { stdin: ctx.stdin, ...fetchOptions }),
      openNamedContexts(flags.buildContexts, fetchOptions),
    ]).catch(async (error: unknown) => {
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
        namedContexts,
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
        git: {
          resolve: (op, signal) => resolveGitCommit(op, { ...gitAgent, signal }),
          checkout: async (op, commit, into, signal) =>
            (await checkoutGit({ ...op, ref: commit }, into, { ...gitAgent, signal })).dir,
        },
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
