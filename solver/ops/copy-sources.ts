import { readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import type { Vertex } from '../graph.ts';
import type { SourceEntry, SourceStat } from './types.ts';

/** One COPY source, resolved: the item named (or matched by a wildcard) and what it brings along. */
export interface SelectedSource {
  /** The item's path relative to the source root ('' for the root itself). */
  item: string;
  type: SourceEntry['type'];
  /** The entries to copy: the item itself for a file, everything below it for a directory. */
  entries: { src: string; rel: string; type: SourceEntry['type']; stat: SourceStat }[];
}

const wildcard = /[*?[]/;

/**
 * Docker's COPY source rules over a tree of kept entries: a directory copies its contents (`dir`,
 * `dir/` and `dir/.` alike), wildcards match entries segment by segment, a missing plain source is
 * an error while a wildcard that matches nothing is fine when something else was matched.
 * `isExcluded` applies `--exclude` patterns, relative to each item. With `sourceRoot`, a plain
 * source path resolves through symlinks inside that root (`/link-to-dir/file`), as BuildKit's
 * copy follows them; the item keeps the name it was given.
 */
export function resolveCopySources(
  tree: SourceEntry[],
  sources: string[],
  isExcluded: (relativeToItem: string) => boolean,
  _vertex: Pick<Vertex, 'name'>,
  sourceRoot?: string,
): SelectedSource[] {
  const byPath = indexTree(tree);
  const selected: SelectedSource[] = [];
  const resolvedItems = new Map<string, string>();
  for (const source of sources) {
    const clean = cleanSource(source);
    let items: string[];
    if (wildcard.test(clean)) {
      const pattern = globToRegExp(clean);
      items = tree.filter((entry) => pattern.test(entry.path)).map((entry) => entry.path);
    } else {
      const target = sourceRoot === undefined ? clean : resolveTreePath(sourceRoot, clean, tree, byPath);
      if (target === undefined || (target !== '' && !byPath.has(target)))
        throw new Error(`"/${clean}": not found`);
      items = [clean];
      if (target !== clean) resolvedItems.set(clean, target);
    }
    for (const item of items) {
      const real = resolvedItems.get(item) ?? item;
      const type = real === '' ? 'dir' : (entryAt(tree, byPath.get(real))?.type ?? 'file');
      const entries: SelectedSource['entries'] = [];
      if (type === 'dir') {
        const prefix = real === '' ? '' : `${real}/`;
        // The tree is in walk order (a directory, then everything below it), so a directory's
        // contents are the run of entries right after it: no scan of the whole context.
        const start = real === '' ? 0 : (byPath.get(real) ?? tree.length) + 1;
        for (let i = start; i < tree.length; i++) {
          const entry = tree[i] as SourceEntry;
          if (!entry.path.startsWith(prefix)) break;
          const rel = entry.path.slice(prefix.length);
          if (!isExcluded(rel)) entries.push({ src: entry.path, rel, type: entry.type, stat: entry.stat });
        }
      } else if (!isExcluded(posix.basename(item))) {
        // Read from where the item resolves inside the source root (a symlink's target): that is
        // what is copied, so that is what the cache key must cover. Never the host path of the
        // item, whose symlinks the host would follow out of the root.
        const at = entryAt(tree, byPath.get(real));
        if (!at) throw new Error(`"/${item}": not found`);
        entries.push({ src: real, rel: '', type, stat: at.stat });
      } else continue;
      selected.push({ item, type, entries });
    }
  }
  // Nothing selected (wildcards that matched nothing, or everything excluded) copies nothing:
  // BuildKit's COPY sets AllowEmptyWildcard (dockerfile2llb/convert_copy.go), and its file backend
  // returns before creating the destination.
  return selected;
}

/** A COPY source as a path relative to the source root, without `./`, `..` or a trailing `/`. */
function cleanSource(source: string): string {
  return posix.normalize(`/${source}`).slice(1).replace(/\/$/, '').replace(/^\.$/, '');
}

/**
 * The paths of the source root that `sources` can select from: each source's leading plain
 * segments (a wildcard's matches all lie below them; `\` escapes only count with a wildcard, so a
 * segment with one ends the plain part too). '' is the whole root. {@link resolveCopySources}
 * over a tree holding just these paths (and their parents) selects what it selects over the
 * whole tree, as long as none of them passes through a symlink (which it would follow elsewhere).
 */
export function copySourceScope(sources: readonly string[]): string[] {
  const scope = new Set<string>();
  for (const source of sources) {
    const clean = cleanSource(source);
    if (!wildcard.test(clean)) {
      scope.add(clean);
      continue;
    }
    const plain: string[] = [];
    for (const part of clean.split('/')) {
      if (/[*?[\\]/.test(part)) break;
      plain.push(part);
    }
    scope.add(plain.join('/'));
  }
  return scope.has('') ? [''] : [...scope].sort();
}

/** A tree's entries' positions by path. */
type TreeIndex = Map<string, number>;

/** Each tree is indexed once, however many COPYs read it (a context is shared by all of them). */
const treeIndexes = new WeakMap<SourceEntry[], TreeIndex>();

function indexTree(tree: SourceEntry[]): TreeIndex {
  let index = treeIndexes.get(tree);
  if (!index) {
    index = new Map();
    for (let i = 0; i < tree.length; i++) index.set((tree[i] as SourceEntry).path, i);
    treeIndexes.set(tree, index);
  }
  return index;
}

function entryAt(tree: SourceEntry[], index: number | undefined): SourceEntry | undefined {
  return index === undefined ? undefined : tree[index];
}

/**
 * Resolves a root-relative path through the symlinks the tree lists, each read inside `root`
 * (absolute targets restart at the root, `..` stops there); undefined after 40 links.
 */
function resolveTreePath(
  root: string,
  path: string,
  tree: SourceEntry[],
  byPath: TreeIndex,
): string | undefined {
  const pending = path.split('/').filter((part) => part !== '' && part !== '.');
  const resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const name = pending.shift() as string;
    if (name === '..') {
      resolved.pop();
      continue;
    }
    const candidate = [...resolved, name].join('/');
    if (entryAt(tree, byPath.get(candidate))?.type !== 'symlink') {
      resolved.push(name);
      continue;
    }
    if (++hops > 40) return undefined;
    const target = readlinkSync(posix.join(root, candidate));
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...target.split('/').filter((part) => part !== '' && part !== '.'));
  }
  return resolved.join('/');
}

/** A Go filepath.Match-style pattern over whole `/`-separated paths (`*` never crosses `/`). */
function globToRegExp(pattern: string): RegExp {
  let out = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw new Error(`syntax error in pattern: ${pattern}`);
      let body = pattern.slice(i + 1, end);
      if (body.startsWith('^') || body.startsWith('!')) body = `^${body.slice(1)}`;
      out += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (ch === '\\' && i + 1 < pattern.length) {
      out += escapeRegExp(pattern[++i] as string);
    } else out += escapeRegExp(ch);
  }
  return new RegExp(`${out}$`, 'u');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
