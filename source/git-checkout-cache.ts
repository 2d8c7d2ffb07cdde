import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { checkoutGit, type GitCheckout, type GitCheckoutOptions, resolveGitCommit } from './git-checkout.ts';
import type { GitRef } from './git-url.ts';

/**
 * Git contexts kept by commit: the ref is resolved with `git ls-remote` (one request, no fetch)
 * and a checkout of that commit made by an earlier build is used again, as BuildKit's git source
 * resolves a ref first and reuses the snapshot its cache key (the commit) names. A branch that
 * moved is a new commit: fetched and kept beside the others.
 *
 * On disk (`<root>/cache/git-checkouts/<key>/`): `tree/` the checkout as a build reads it (its
 * `.dockerignore` already contained), `checkout.json` where in it the context starts. An entry
 * appears whole or not at all (made in scratch space, then renamed into place), so a kill -9 at
 * any moment leaves no half checkout that looks kept. Builds only read an entry.
 *
 * Only the {@link keep} most recently used entries stay; older ones go when a new one is added,
 * unless used in the last {@link inUseMs} (a build touches its entry when it starts, and may
 * still be reading it). They are renamed aside before being removed, so a removal cut short
 * leaves no entry that looks whole.
 */
const keep = 8;
const inUseMs = 60 * 60 * 1000;
const aside = '.old-';

export interface CachedCheckoutOptions extends GitCheckoutOptions {
  /** The directory entries live in (made private when missing). */
  dir: string;
  /** A fresh empty directory on the same file system, for a checkout before it is kept. */
  scratch(): Promise<string>;
  /** Prepares a new checkout's context directory before it is kept (containing its .dockerignore). */
  prepare(dir: string): Promise<void>;
}

interface Entry {
  /** The context directory, relative to `tree/`. */
  dir: string;
  commit: string;
}

export async function cachedCheckout(ref: GitRef, options: CachedCheckoutOptions): Promise<GitCheckout> {
  const commit = await resolveGitCommit(ref, options);
  const key = createHash('sha256')
    .update(
      JSON.stringify([
        ref.remote,
        commit,
        ref.subdir ?? '',
        ref.keepGitDir === true,
        ref.submodules !== false,
      ]),
    )
    .digest('hex');
  const entry = join(options.dir, key);
  const kept = await readEntry(entry);
  if (kept) {
    const now = new Date();
    await utimes(entry, now, now).catch(() => undefined);
    return kept;
  }
  const staging = await options.scratch();
  const checkout = await checkoutGit({ ...ref, ref: commit }, join(staging, 'tree'), options);
  await options.prepare(checkout.dir);
  const record: Entry = { dir: relative(join(staging, 'tree'), checkout.dir), commit: checkout.commit };
  await writeFile(join(staging, 'checkout.json'), JSON.stringify(record));
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  try {
    await rename(staging, entry);
  } catch (error) {
    // Another build kept the same commit meanwhile: use theirs.
    await rm(staging, { recursive: true, force: true });
    const theirs = await readEntry(entry);
    if (theirs) return theirs;
    throw error;
  }
  await evict(options.dir, key);
  return (await readEntry(entry)) ?? { dir: checkout.dir, commit: checkout.commit };
}

async function readEntry(entry: string): Promise<GitCheckout | undefined> {
  try {
    const record = JSON.parse(await readFile(join(entry, 'checkout.json'), 'utf8')) as Entry;
    return { dir: join(entry, 'tree', record.dir), commit: record.commit };
  } catch {
    return undefined;
  }
}

/** Removes all but the `keep` most recently used entries not in use, and what a removal left. */
async function evict(dir: string, added: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const entries: { name: string; used: number }[] = [];
  for (const name of names) {
    const path = join(dir, name);
    if (name.includes(aside)) {
      await rm(path, { recursive: true, force: true });
      continue;
    }
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory() && name !== added) entries.push({ name, used: info.mtimeMs });
  }
  entries.sort((a, b) => b.used - a.used);
  for (const { name, used } of entries.slice(keep - 1)) {
    if (Date.now() - used < inUseMs) continue;
    const away = join(dir, `${name}${aside}${randomBytes(6).toString('hex')}`);
    if (
      await rename(join(dir, name), away).then(
        () => true,
        () => false,
      )
    ) {
      await rm(away, { recursive: true, force: true });
    }
  }
}
