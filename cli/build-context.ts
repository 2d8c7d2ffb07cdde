// `tbuild build PATH|URL|-`: the context and the Dockerfile, from wherever they come (source/),
// in scratch directories of the tbuild root that go when the command ends (or, after a kill -9,
// with the next sweep: their names carry this process as owner).
import { rmSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import { privateDirMode, scratchDir, scratchPath } from '../cache/index.ts';
import { BuildError, type NamedContext, readDockerignore } from '../frontend/index.ts';
import {
  locateFetchedDockerfile,
  type OpenedContext,
  openContext,
  openNamedContext,
} from '../source/index.ts';
import { pathError } from '../user-paths.ts';
import { locateDockerfile, readStdin } from './build-dockerfile.ts';

/** The context directory and the Dockerfile a build reads. */
export interface BuildInput {
  context: OpenedContext;
  /** Where the Dockerfile is (or would be, for one from standard input): its `.dockerignore` sits beside it. */
  dockerfilePath: string;
  /** Its name in messages and locations. */
  dockerfileName: string;
  text: Buffer;
}

/** Scratch directories under `root` for fetched contexts, removed by `release` or at exit. */
export class ContextScratch {
  private readonly made: string[] = [];
  private readonly onExit = () => {
    for (const dir of this.made) rmSync(dir, { recursive: true, force: true });
  };

  private readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  readonly make = async (): Promise<string> => {
    if (this.made.length === 0) process.once('exit', this.onExit);
    await mkdir(scratchDir(this.root), { recursive: true, mode: privateDirMode });
    const dir = scratchPath(this.root, 'context');
    this.made.push(dir);
    await mkdir(dir, { mode: 0o755 });
    return dir;
  };

  async release(): Promise<void> {
    for (const dir of this.made.splice(0)) await rm(dir, { recursive: true, force: true });
    process.off('exit', this.onExit);
  }
}

/**
 * Opens the context `spec` and finds its Dockerfile: `-f FILE` (`-` for standard input), else
 * the context's. As buildx: for a local context `-f` is a path as given; for a fetched one it is
 * inside the context (an absolute path is a local file, except for an archive on standard input).
 */
export async function openBuildInput(
  spec: string,
  file: string | undefined,
  options: { stdin: NodeJS.ReadableStream; scratch: ContextScratch; gitCache?: string; sshAuthSock?: string },
): Promise<BuildInput> {
  if (spec === '-' && file === '-') {
    throw new BuildError("invalid argument: can't use stdin for both build context and dockerfile");
  }
  const context = await openContext(spec, {
    scratch: options.scratch.make,
    stdin: options.stdin as AsyncIterable<Buffer>,
    ...(options.gitCache === undefined ? {} : { gitCache: options.gitCache }),
    ...(options.sshAuthSock === undefined ? {} : { sshAuthSock: options.sshAuthSock }),
  });
  const fromStdin = file === '-';
  if (context.dockerfile !== undefined) {
    if (file !== undefined) {
      throw new BuildError('ambiguous Dockerfile source: both stdin and flag correspond to Dockerfiles');
    }
    return {
      context,
      dockerfilePath: join(context.dir, 'Dockerfile'),
      dockerfileName: 'Dockerfile',
      text: context.dockerfile,
    };
  }
  if (fromStdin) {
    return {
      context,
      dockerfilePath: join(context.dir, 'Dockerfile'),
      dockerfileName: 'Dockerfile',
      text: await readStdin(options.stdin),
    };
  }
  const inside =
    context.fetched && !(file !== undefined && isAbsolute(file) && context.kind !== 'stdin-archive');
  const dockerfilePath = inside
    ? await locateFetchedDockerfile(context.dir, file)
    : await locateDockerfile(file, context.dir);
  if (dockerfilePath === undefined) {
    throw new BuildError(
      `failed to read dockerfile: open ${file ?? 'Dockerfile'}: no such file or directory in the context`,
    );
  }
  const text = await readFile(dockerfilePath).catch((error: unknown) => {
    throw pathError(error, dockerfilePath, 'a Dockerfile');
  });
  return { context, dockerfilePath, dockerfileName: basename(dockerfilePath), text };
}

/**
 * `--build-context`s opened (source/named-context.ts): images as references, the rest as
 * directories with the patterns of their own `.dockerignore` (dockerui namedcontext.go reads a
 * named local context's root `.dockerignore`; a Dockerfile's own ignore file is the main context's).
 */
export async function openNamedContexts(
  values: ReadonlyMap<string, string>,
  options: { scratch: ContextScratch; gitCache?: string; sshAuthSock?: string },
): Promise<Record<string, NamedContext>> {
  const contexts: Record<string, NamedContext> = {};
  for (const [name, value] of values) {
    const opened = await openNamedContext(name, value, {
      scratch: options.scratch.make,
      ...(options.gitCache === undefined ? {} : { gitCache: options.gitCache }),
      ...(options.sshAuthSock === undefined ? {} : { sshAuthSock: options.sshAuthSock }),
    });
    contexts[name] =
      opened.type === 'image'
        ? opened
        : { type: 'local', dir: opened.dir, excludes: [...(await readDockerignore(opened.dir)).patterns] };
  }
  return contexts;
}
