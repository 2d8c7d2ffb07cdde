// Public surface of executor/: run one process in a rootfs under runc.
export { ExecError } from './errors.ts';
export { resolveInRoot } from './rootpath.ts';
export {
  createRuncExecutor,
  type RuncExecutor,
  type RuncExecutorOptions,
  readNofileHard,
  sweepStaleContainers,
} from './runc.ts';
export {
  type LinuxSeccomp,
  parseSeccompProfile,
  type SeccompProfile,
  type SeccompRule,
  seccompForProcess,
} from './seccomp.ts';
export { defaultSeccompProfile } from './seccomp-default.ts';
export {
  allCapabilities,
  defaultCapabilities,
  hostsFileContent,
  maskedPaths,
  type RuntimeSpec,
  readonlyPaths,
  resolvConfContent,
  runtimeSpec,
  type SpecMount,
  type SpecOptions,
  specJson,
  ulimitNames,
} from './spec.ts';
export {
  defaultHostname,
  defaultPathEnv,
  type ExecMeta,
  type ExecMount,
  type Executor,
  type ExtraHost,
  type NetworkMode,
  type ProcessIds,
  type ProcessIO,
  type Ulimit,
} from './types.ts';
export { resolveUser, resolveUserFromFiles } from './user.ts';
