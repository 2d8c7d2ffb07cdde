import { cp, mkdir, rm } from 'node:fs/promises';
import { privateDirMode, scratchDir, scratchPath } from '../../cache/index.ts';
import { type Digest, digestOf, type GitOp } from '../graph.ts';

/**
 * The `git` source (`ADD <git URL>`), BuildKit's source/git: the solver resolves the ref to a
 * commit for the cache key (an `ls-remote`, no fetch), and only a miss fetches and checks the
 * commit out; the result is a root filesystem holding the checkout (or its subdirectory), which
 * a copy op puts in place with ADD's --chown/--chmod.
 *
 * Cache key (BuildKit gitSourceHandler CacheKey): the remote, the commit, the subdirectory,
 * whether `.git` is kept and whether submodules are fetched; not the ref's name, so `#main` and
 * `#v1` at the same commit are one result, and a branch that moved is a miss.
 */
export interface GitSourceDeps {
  /** The commit `op` names now (a full hash); the source's error when it names none. */
  resolve(op: GitOp, signal: AbortSignal): Promise<string>;
  /** Fetches `commit` into `into` (made; must not exist); the directory holding the files. */
  checkout(op: GitOp, commit: string, into: string, signal: AbortSignal): Promise<string>;
}

/** Bumped when the meaning of a git key changes. */
const keyVersion = 'tbuild.git.v1';

export type GitSource = ReturnType<typeof createGitSource>;

export function createGitSource(root: string, deps: GitSourceDeps | undefined) {
  /** By vertex digest: the commit each git vertex's key was taken from. */
  const commits = new Map<Digest, Promise<string>>();
  const source = (): GitSourceDeps => {
    if (deps === undefined) throw new Error('git sources are not available in this build');
    return deps;
  };
  const commitOf = (vertexDigest: Digest, op: GitOp, signal: AbortSignal): Promise<string> => {
    let commit = commits.get(vertexDigest);
    if (!commit) {
      commit = source().resolve(op, signal);
      commits.set(vertexDigest, commit);
      // A failed resolve is not remembered: a retry asks again.
      commit.catch(() => commits.delete(vertexDigest));
    }
    return commit;
  };

  return {
    async cacheKey(vertexDigest: Digest, op: GitOp, signal: AbortSignal): Promise<Digest> {
      const commit = await commitOf(vertexDigest, op, signal);
      return digestOf({
        version: keyVersion,
        remote: op.remote,
        commit,
        subdir: op.subdir ?? '',
        keepGitDir: op.keepGitDir,
        submodules: op.submodules !== false,
      });
    },

    /** Checks the commit the key was taken from out into `rootfs` (an empty root filesystem). */
    async writeInto(vertexDigest: Digest, op: GitOp, rootfs: string, signal: AbortSignal): Promise<void> {
      const commit = await commitOf(vertexDigest, op, signal);
      await mkdir(scratchDir(root), { recursive: true, mode: privateDirMode });
      const into = scratchPath(root, 'git');
      try {
        const dir = await source().checkout(op, commit, into, signal);
        // Modes and links as checked out (links verbatim: they are the repository's, and stay
        // inside the layer as written); the owner is root, as BuildKit's checkout is.
        await cp(dir, rootfs, { recursive: true, verbatimSymlinks: true, force: true });
      } finally {
        await rm(into, { recursive: true, force: true });
      }
    },
  };
}
