import type { ContextOp } from '../graph.ts';
import type { RunnerDeps, SourceEntry } from './types.ts';

/**
 * The kept entries of a context (or of the paths `within` it), walked once per build and shared
 * by every COPY and bind mount that reads the same part, for its key and for the copy itself; a
 * walk of the whole context serves every part.
 */
export type ContextTrees = (op: ContextOp, within?: readonly string[]) => Promise<SourceEntry[]>;

export function createContextTrees(walk: RunnerDeps['walkSource']): ContextTrees {
  const trees = new Map<string, Promise<SourceEntry[]>>();
  return (op, within) => {
    const id = `${op.dir}\0${op.excludes.join('\n')}`;
    const part = within === undefined ? id : `${id}\0${within.join('\0')}`;
    let tree = trees.get(id) ?? trees.get(part);
    if (!tree) {
      tree = walk(op.dir, op.excludes, within);
      trees.set(part, tree);
    }
    return tree;
  };
}
