// Public surface of solver/: the build graph (plain data) and the scheduler that solves it.

export { checkEntitlements, type Entitlement, entitlements, isEntitlement } from './entitlements.ts';
export { StepError } from './errors.ts';
export {
  type ContextOp,
  type CopyOp,
  canonicalJson,
  type Digest,
  digestOf,
  dumpGraph,
  type ExecMountOp,
  type ExecOp,
  type GitOp,
  type HttpOp,
  type ImageOp,
  type MkdirOp,
  type MkfileOp,
  type Op,
  type ScratchOp,
  type UserSpec,
  type Vertex,
  vertex,
} from './graph.ts';
// The meaning of a --chmod value (octal or symbolic), shared with the frontend so that files it
// makes with a known mode (heredocs) follow the same rule as copied ones.
export { parseChmod } from './ops/chmod.ts';
export type { GitSourceDeps } from './ops/git.ts';
export { createFsRunner } from './ops/runner.ts';
export type {
  CacheSource,
  FsResult,
  FsRunner,
  LayerRecord,
  RunnerDeps,
  SourceEntry,
  SourceStat,
} from './ops/types.ts';
export { type JobContext, type OpRunner, type SolveOptions, solve } from './solve.ts';
