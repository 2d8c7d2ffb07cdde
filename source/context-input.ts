import { lstat, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { resolveInRoot } from '../executor/index.ts';
import { extractContextArchive, isArchive, type PeekedStream, peekStream } from './archive-context.ts';
import { SourceError } from './errors.ts';
import { checkoutGit, type GitCheckout } from './git-checkout.ts';
import { cachedCheckout } from './git-checkout-cache.ts';
import { parseGitRef, redactCredentials } from './git-url.ts';

/**
 * Where a build context comes from, as `docker buildx build PATH|URL|-` tells (buildx
 * build/opt.go loadInputs, in this order): `-` is standard input (a tar archive, maybe
 * compressed, or a Dockerfile and no context); an existing directory is a local context; a git
 * address (source/git-url.ts) is checked out; any other http(s) URL is downloaded, a tar archive
 * or a Dockerfile. Whatever is fetched lands in a directory of its own, so the frontend reads
 * every context the same way (a directory, its .dockerignore, COPY's content checksums). These
 * are sources, not the frontend's business: fetching runs programs and talks to the network
 * before the frontend has anything to read, as BuildKit's source/git and source/http do.
 */
export interface OpenedContext {
  kind: 'local' | 'stdin-archive' | 'stdin-dockerfile' | 'git' | 'url-archive' | 'url-dockerfile';
  /** The directory the build reads its files from. */
  dir: string;
  /** The Dockerfile, when the input itself is one (standard input, a URL that is no archive). */
  dockerfile?: Buffer;
  /** A git context's commit. */
  commit?: string;
  /**
   * The context was fetched, not the user's own directory: a `-f` path is looked up inside it,
   * and links in it never lead out (it may come from anyone).
   */
  fetched: boolean;
}

export interface OpenContextOptions {
  /** Makes a fresh empty directory for a fetched context (scratch space under the tbuild root). */
  scratch(): Promise<string>;
  /** Standard input, for `-`. */
  stdin?: AsyncIterable<Buffer | string>;
  /** The ssh-agent socket git uses for ssh remotes. */
  sshAuthSock?: string;
  /**
   * Where git checkouts are kept by commit (source/git-checkout-cache.ts): a rebuild from an
   * unchanged ref fetches nothing. Without it every git context is fetched afresh.
   */
  gitCache?: string;
  signal?: AbortSignal;
}

/** Opens the context `spec` names (see {@link OpenedContext}). */
export async function openContext(spec: string, options: OpenContextOptions): Promise<OpenedContext> {
  if (spec === '-') {
    if (options.stdin === undefined) throw new SourceError('no standard input to read the context from');
    return fromStream(await peekStream(options.stdin), 'stdin', 'the context on standard input', options);
  }
  const local = resolve(spec);
  const info = await stat(local).catch(() => undefined);
  if (info?.isDirectory()) return { kind: 'local', dir: local, fetched: false };
  // docker build's words (docker/cli cli/command/image/build/context.go ValidateContextDirectory).
  if (info) throw new SourceError(`unable to prepare context: context must be a directory: ${local}`);
  return openRemote(spec, options, () => {
    throw new SourceError(`unable to prepare context: path "${spec}" not found`);
  });
}

/**
 * A context that is not a local directory: a git repository or an http(s) URL (`--build-context`
 * values too); `otherwise` decides for anything else.
 */
export async function openRemote(
  spec: string,
  options: OpenContextOptions,
  otherwise: () => OpenedContext | Promise<OpenedContext>,
): Promise<OpenedContext> {
  const git = parseGitRef(spec, { allowFile: true });
  if (git) {
    const gitOptions = {
      ...(options.sshAuthSock === undefined ? {} : { sshAuthSock: options.sshAuthSock }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    };
    let checkout: GitCheckout;
    if (options.gitCache === undefined) {
      checkout = await checkoutGit(git, await options.scratch(), gitOptions);
      await containIgnoreFile(checkout.dir);
    } else {
      checkout = await cachedCheckout(git, {
        ...gitOptions,
        dir: options.gitCache,
        scratch: options.scratch,
        prepare: containIgnoreFile,
      });
    }
    return { kind: 'git', dir: checkout.dir, commit: checkout.commit, fetched: true };
  }
  if (/^https?:\/\//i.test(spec))
    return fromStream(await download(spec, options.signal), 'url', spec, options);
  return otherwise();
}

async function fromStream(
  input: PeekedStream,
  from: 'stdin' | 'url',
  what: string,
  options: OpenContextOptions,
): Promise<OpenedContext> {
  const dir = await options.scratch();
  if (input.head.length > 0 && isArchive(input.head)) {
    await extractContextArchive(input.stream, input.head, dir, what);
    await containIgnoreFile(dir);
    return { kind: from === 'stdin' ? 'stdin-archive' : 'url-archive', dir, fetched: true };
  }
  // A Dockerfile and an empty context (buildx makes an empty directory for it too).
  const chunks: Buffer[] = [];
  for await (const chunk of input.stream) chunks.push(chunk as Buffer);
  return {
    kind: from === 'stdin' ? 'stdin-dockerfile' : 'url-dockerfile',
    dir,
    dockerfile: Buffer.concat(chunks),
    fetched: true,
  };
}

/** GETs `url` (docker/cli GetContextFromURL: any status from 400 up fails, with the body's start). */
async function download(url: string, signal: AbortSignal | undefined): Promise<PeekedStream> {
  const shown = redactCredentials(url);
  let response: Response;
  try {
    response = await fetch(url, signal === undefined ? {} : { signal });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
    throw new SourceError(`unable to download remote context ${shown}: ${cause}`, { cause: error });
  }
  if (response.status >= 400 || response.body === null) {
    const body = (await response.text().catch(() => '')).trim().slice(0, 200);
    throw new SourceError(
      `unable to download remote context ${shown}: failed to GET ${shown} with status ${response.status} ${response.statusText}${body ? `: ${body}` : ''}`,
    );
  }
  return peekStream(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>));
}

/**
 * The `.dockerignore` of a fetched context is read by the frontend like any file of a local
 * context; a symlink there that leads out of the context is replaced by what it names inside
 * the context (resolved as the container would), or removed when that is no file.
 */
async function containIgnoreFile(dir: string): Promise<void> {
  const path = join(dir, '.dockerignore');
  if (!(await lstat(path).catch(() => undefined))?.isSymbolicLink()) return;
  const inside = resolveInRoot(dir, '.dockerignore');
  const text = await readFile(inside).catch(() => undefined);
  await rm(path, { force: true });
  if (text !== undefined) await writeFile(path, text);
}

/**
 * The Dockerfile of a fetched context: `file` (`-f`, relative to the context, default
 * `Dockerfile` or else `dockerfile`), resolved inside the context so a link cannot point outside.
 */
export async function locateFetchedDockerfile(
  dir: string,
  file: string | undefined,
): Promise<string | undefined> {
  for (const name of file === undefined ? ['Dockerfile', 'dockerfile'] : [file]) {
    const path = resolveInRoot(dir, name);
    if ((await stat(path).catch(() => undefined))?.isFile()) return path;
  }
  return undefined;
}
